"""Security headers on every response the Flask app sends.

The published snapshot carries its own, precomputed in ``statuspage.public.site``. Pages
use no inline script or style, so the policy allows only this origin's files; the admin
additionally is never stored by a cache (the inbox shows customers' addresses) and sends
its URLs to no other site.
"""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
COMMON = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
HSTS = "max-age=31536000; includeSubDomains"
# Flask-WTF checks the Referer of https form posts, so the admin keeps it same-origin.
ADMIN = {"Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
PUBLIC = {"Referrer-Policy": "strict-origin-when-cross-origin"}


def add_security_headers(app: Flask) -> None:
    """Register the headers; which ones is decided once, from the base URL."""
    common = dict(COMMON)
    if app.config["BASE_URL"].startswith("https://"):
        common["Strict-Transport-Security"] = HSTS
    admin = {**common, **ADMIN}.items()
    public = {**common, **PUBLIC}.items()

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        if request.path.startswith("/admin"):
            for name, value in admin:
                headers[name] = value
        else:  # a view that asks for stricter (no-referrer on token links) keeps it
            for name, value in public:
                headers.setdefault(name, value)
        return response
