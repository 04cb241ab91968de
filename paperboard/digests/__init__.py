"""Email digests ("get trending papers in your email inbox"): subscriptions with double opt-in, signed
preference links, the digest's content and mail, crash-safe sending, the worker. See docs/digests.md.

    models         Subscription, Delivery, SentPaper
    schedule       send times and periods of each frequency
    preferences    what a subscriber wants (JSON on the subscription)
    links          signed links (manage, confirm)
    subscriptions  every change of a subscription's state
    content        the papers of a digest
    message        the mail (HTML + text, List-Unsubscribe); sending it: paperboard.mail.transport
    sending        send_due(): recover, schedule, deliver
    tasks          the django-tasks task; scheduler: the worker's schedule thread
    views, forms, outbox, admin, urls
"""
