"""A relying party built on esia-connector 0.16 (github.com/eigenmethod/esia-connector), run
unmodified in its own virtual environment: the test of the principle that a real third-party
ESIA client completes a login against the mock.

    python esia_connector_client.py url      SETTINGS_JSON
    python esia_connector_client.py complete SETTINGS_JSON CODE STATE

``url`` prints the authorization URL the library makes (client_secret signed by the
``openssl smime`` command, as the library does); ``complete`` trades the code through the
library, which verifies the id_token with ESIA's key, and prints the person's main data the
library then reads, as JSON. This file runs under the third-party environment's Python and
imports nothing from gosstand.
"""

import json
import sys

from esia_connector.client import EsiaAuth, EsiaSettings


def main() -> None:
    mode, settings = sys.argv[1], json.loads(sys.argv[2])
    auth = EsiaAuth(EsiaSettings(**settings))
    if mode == "url":
        print(auth.get_auth_url())
        return
    code, state = sys.argv[3], sys.argv[4]
    connector = auth.complete_authorization(code, state, validate_token=True)
    print(json.dumps({"oid": connector.oid, "person": connector.get_person_main_info()}, ensure_ascii=False))


if __name__ == "__main__":
    main()
