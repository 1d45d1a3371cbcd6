"""QR code images of the simulator: real PNGs (segno) as ``data:image/png;base64,...`` URLs.

Images are cached per reference: a pairing run shows a handful of references and many clients
poll the same one, so each PNG is encoded once. segno is imported on first use so that importing
the simulator (e.g. the pytest plugin) stays cheap.
"""

from __future__ import annotations

import functools

__all__ = ["qr_data_url"]


@functools.lru_cache(maxsize=16384)
def qr_data_url(reference: str) -> str:
    """A PNG data URL of a QR code that encodes ``reference``.

    Args:
        reference: The text the phone reads from the QR code.
    """
    import segno

    # A fixed mask pattern is valid QR and avoids segno's mask search, which is most of the cost
    # when ten thousand instances pair at once.
    code = segno.make(reference, error="l", micro=False, mask=0)
    data_uri: str = code.png_data_uri(scale=4, border=4)
    return data_uri
