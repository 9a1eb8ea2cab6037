"""The stand's test certification authority: issuing qualified certificates to seeded people,
revoking them, and checking a certificate presented at ESIA's signature login."""
