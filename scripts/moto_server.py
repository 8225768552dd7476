"""Run moto's S3-protocol server for the object-store tests, with one fix to its signature check.

moto (5.1) rebuilds the SigV4 canonical request from the path and query as it received them,
after the web framework has decoded them, so a signed `?prefix=a%2Fb%2F` (what AWS SDKs and
object_store send for a LIST below a prefix) or a key such as `ü n` fails with
SignatureDoesNotMatch although real S3 accepts it. Here path and query are put back into the
canonical form SigV4 specifies for S3 (percent-encoded once, unreserved characters kept)
before moto verifies the signature. Nothing
else changes; arguments are moto.server's (e.g. `-H 127.0.0.1 -p 9000`).
"""

import sys
from urllib.parse import quote, unquote, unquote_plus

from moto.iam import access_control
from moto.server import main

_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _canonical_query(self):  # type: ignore[no-untyped-def]
    path, sep, query = self._path.partition("?")
    path = quote(unquote(path), safe="/~")
    self._path = path
    if sep:
        pairs = []
        for pair in query.split("&"):
            key, eq, value = pair.partition("=")
            pairs.append(quote(unquote_plus(key), safe="-_.~") + eq + quote(unquote_plus(value), safe="-_.~"))
        self._path = path + "?" + "&".join(pairs)
    return _create_aws_request(self)


access_control.IAMRequestBase._create_aws_request = _canonical_query

if __name__ == "__main__":
    sys.exit(main())
