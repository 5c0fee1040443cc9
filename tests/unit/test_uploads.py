"""Uploads are judged by their content, not their name: only PDF, PNG and JPEG, within a size."""

from __future__ import annotations

import pytest

from portal.backend.storage import UploadRefused, attachment_disposition, check_upload

MB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "kind"), [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")]
)
def test_allowed_kinds_are_recognised_by_content(data, kind):
    assert check_upload(data, max_bytes=10 * MB) == kind


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"<html><script>alert(1)</script></html>", "Only PDF, PNG and JPEG"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "Only PDF, PNG and JPEG"),
        (b"MZ\x90\x00 executable.pdf.exe", "Only PDF, PNG and JPEG"),
        (b" %PDF-1.4 with a leading space", "Only PDF, PNG and JPEG"),
        (PDF + b"x" * (10 * MB), "larger than 10 MB"),
    ],
)
def test_everything_else_is_refused_with_a_reason(data, reason):
    with pytest.raises(UploadRefused, match=reason):
        check_upload(data, max_bytes=10 * MB)


def test_download_names_cannot_break_out_of_the_header():
    header = attachment_disposition('report"; filename=evil.html\r\nX-Injected: 1.pdf')
    assert header.startswith("attachment; ")
    assert "\r" not in header and "\n" not in header
    assert 'filename="report___filename_evil.html__X-Injected__1.pdf"' in header


def test_a_thumbnail_is_small_and_a_broken_image_gets_none():
    import io

    from PIL import Image

    from portal.backend.storage import thumbnail

    source = io.BytesIO()
    Image.new("RGBA", (100, 900), (0, 128, 128, 200)).save(source, format="PNG")
    preview = Image.open(io.BytesIO(thumbnail(source.getvalue())))
    assert preview.size == (36, 320) and preview.mode == "RGBA"
    assert thumbnail(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10) is None
