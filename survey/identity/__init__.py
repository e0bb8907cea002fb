"""Who is asking: passwords, session and API tokens, and the user a token belongs to.

The pieces of identity that services and the web both need, with no blueprint or request of
their own: the ``auth`` area (sign-in pages, the access decorators) and the account services
(:mod:`survey.services.own_account`, :mod:`survey.services.user_admin`) build on them.
"""
