"""Stream an upload.

Large bodies need not be held in memory. Three ways, by what the service accepts:

- a seekable file: `sign()` hashes it in 1 MiB pieces and rewinds it;
- `payload="UNSIGNED-PAYLOAD"` (S3 over HTTPS): the body is not hashed at all;
- aws-chunked (`payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD"`, S3): the
  headers carry a seed signature and `result.request.body` becomes a lazy
  iterator that signs one chunk at a time while you send it (each chunk's
  header line, then its data as read, never copied). Set
  `X-Amz-Decoded-Content-Length` for a stream; the encoded Content-Length is
  computed for you. `-TRAILER` forms add a trailing checksum.

The requests and httpx adapters take the same `payload=` option and stream
file and iterator bodies. Below, the receiving side (`sigv4.verify` plus the
`sigv4.chunked_decode` decoder) checks every chunk signature.
"""

import io
from datetime import datetime, timezone

import sigv4
from sigv4.chunked_decode import ChunkData, decoder_for

creds = sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
when = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
data = bytes(range(256)) * 1024  # 256 KiB
upload = sigv4.Request("PUT", "https://examplebucket.s3.amazonaws.com/big.bin",
                       [("X-Amz-Decoded-Content-Length", str(len(data)))], io.BytesIO(data))
result = sigv4.sign(upload, creds, region="us-east-1", service="s3", timestamp=when, s3=True,
                    payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD", chunk_size=64 * 1024)
print("Content-Length:", result.request.header("content-length"), "for", len(data), "bytes of data")

# What a server does with the bytes as they arrive (here all at once).
received = sigv4.Request("PUT", "/big.bin", result.request.headers, b"".join(result.request.body))
identity = sigv4.verify(received, {creds.access_key_id: creds}.get, now=when, s3=True)
decoder = decoder_for(identity, received)
events = decoder.feed(received.body)
decoder.close()
chunks = [e.data for e in events if isinstance(e, ChunkData)]
print(len(chunks), "chunks verified")
assert b"".join(chunks) == data
