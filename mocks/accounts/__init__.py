"""The personal accounts of FTS and FGIS UTKO as ESIA relying parties, one package for both.

A person opens ``/login`` on FTS or UTKO, signs in at ESIA (v2: a GOST-signed request), and
comes back to ``/login/callback``; the account checks ``state``, trades the code, verifies the
tokens, reads the person and their organisations from ESIA's ``/rs`` and opens its own session.
The person then chooses whom to act for (:mod:`.acting`); UTKO registers an organisation in
the FGIS on its first sign-in (:mod:`.fgis_registration`). Each service hands
:func:`.routes.account_routes` an :class:`.system.AccountSystem` saying what differs.
"""
