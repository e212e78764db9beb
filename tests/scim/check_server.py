"""Runs scim2-tester's `check_server` (the python-scim project's SCIM 2.0 conformance checker)
against a SCIM service provider and prints one JSON summary on stdout.

    SCIM_SECRET=scim_… python check_server.py http://127.0.0.1:8080/scim/v2

The client is scim2-client's httpx2 engine with `Authorization: Bearer <SCIM_SECRET>`. The
summary: {"version": "<scim2-tester version>", "counts": {"SUCCESS": n, "SKIPPED": n, …},
"results": [{"status", "title", "reason", "resource_type", "tags", "data"}, …]}.
Exit status 0 whenever the checker ran (the caller judges the results), 2 on a usage error,
1 when the service cannot even be described (its discovery documents are incoherent).
"""

import json
import os
import sys
import uuid
from collections import Counter
from importlib.metadata import version

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server

# RFC 7643 §4.1.1 leaves the form of `userName` to the service provider; the console's is the
# person's email (its /Schemas says so in words, which a schema cannot say in a machine-readable
# way). scim2-tester draws a value from the attribute's `examples` when it has some, else a
# random UUID, which the console refuses with 400 invalidValue. So the discovered User model
# gets examples: fresh addresses, enough that two resources of one run never share one.
ADDRESSES = [f"scim-tester-{uuid.uuid4().hex}@example.com" for _ in range(20_000)]


def main() -> int:
    if len(sys.argv) != 2 or not os.environ.get("SCIM_SECRET"):
        print(__doc__, file=sys.stderr)
        return 2
    base = sys.argv[1].rstrip("/")
    http = Client(
        base_url=base,
        headers={"Authorization": f"Bearer {os.environ['SCIM_SECRET']}"},
        timeout=30,
    )
    scim = SyncSCIMClient(http)
    # Describe the service from what it publishes (this fails on incoherent documents), then
    # let check_server run every check against that description.
    scim.discover()
    user = scim.get_resource_model("User")
    if user is None:
        print("the service publishes no User resource", file=sys.stderr)
        return 1
    user.model_fields["user_name"].examples = ADDRESSES
    results = check_server(scim)
    counts = Counter(r.status.name for r in results)
    summary = {
        "version": version("scim2-tester"),
        "counts": dict(sorted(counts.items())),
        "results": [
            {
                "status": r.status.name,
                "title": r.title,
                "reason": r.reason,
                "resource_type": r.resource_type,
                "tags": sorted(r.tags),
                "data": None if r.data is None else repr(r.data)[:2000],
            }
            for r in results
        ],
    }
    json.dump(summary, sys.stdout, indent=1, default=str)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
