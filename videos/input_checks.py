"""Checks on generation input: control characters in text, and image URLs KIE may fetch (https, public
hosts only: no private, loopback or internal address in any spelling)."""

import ipaddress
import re
import socket
import unicodedata
from urllib.parse import urlsplit

BLOCKED_HOST_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")
HOST_RE = re.compile(r"^[a-z0-9._-]+$")
NUMERIC_LABEL_RE = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


def has_control_chars(value: str, *, allow_newlines: bool) -> bool:
    for char in value:
        if allow_newlines and char in "\n\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cf"):
            return True
    return False


def _public_address(address) -> bool:
    """Global and unicast, including the IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64)."""
    if address.version == 6:
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if address in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not _public_address(embedded):
            return False
    return address.is_global and not address.is_multicast


def public_https_url_error(value: str) -> str:
    """Why an image URL is refused ('' when acceptable): https only, no private or loopback hosts."""
    if has_control_chars(value, allow_newlines=False) or any(char.isspace() for char in value):
        return "Must not contain spaces or control characters."
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "Not a valid URL."
    if parts.scheme != "https" or not parts.hostname:
        return "Must be an https URL."
    if parts.username or parts.password:
        return "Must not carry credentials."
    if port not in (None, 443):
        return "Must use the standard https port."
    host = parts.hostname.rstrip(".").lower()
    if ":" in host:  # an IPv6 literal
        try:
            return "" if _public_address(ipaddress.IPv6Address(host)) else "Must point at a public address."
        except ValueError:
            return "Not a valid address."
    try:
        host = host.encode("idna").decode("ascii")  # full-width digits and the like, mapped as resolvers do
    except UnicodeError:
        return "Not a valid host name."
    if not HOST_RE.match(host):
        return "Not a valid host name."
    if host == "localhost" or host.endswith(BLOCKED_HOST_SUFFIXES):
        return "Must point at a public host."
    if NUMERIC_LABEL_RE.match(host.rpartition(".")[2]):
        # An IPv4 address in any spelling resolvers accept: 127.1, 0x7f.0.0.1, 0177.0.0.1, 2130706433.
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return "Not a valid address."
        return "" if _public_address(address) else "Must point at a public address."
    if "." not in host:
        return "Must point at a public host."
    return ""
