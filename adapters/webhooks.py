"""Calling customers' webhook URLs: httpx, no redirects, a 5-second budget per attempt, and
no request to an address the platform must not reach.

The address check happens where the connection is made, not before: the network backend
resolves the host itself, refuses it when an address it resolves to is private, loopback,
link-local, multicast, reserved or unspecified (unless it lies in a network the operator
allowed, ``KONTOR_WEBHOOK_ALLOWED_NETWORKS``), and connects to the address it checked, so a
name that resolves differently a moment later (DNS rebinding) cannot slip through. TLS still
verifies the certificate against the URL's host name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpcore
import httpx

TIMEOUT = 5.0
SNIPPET = 500
"""Characters of a response body kept with an attempt."""

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddressError(httpcore.ConnectError):
    """The host resolves to an address the platform does not call."""


def networks(spec: str) -> tuple[IpNetwork, ...]:
    """``KONTOR_WEBHOOK_ALLOWED_NETWORKS`` as networks (raises ValueError)."""
    return tuple(
        ipaddress.ip_network(n.strip(), strict=False) for n in spec.split(",") if n.strip()
    )


def forbidden(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return forbidden(address.ipv4_mapped)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


class AddressGuard:
    def __init__(self, allowed: Iterable[IpNetwork] = ()) -> None:
        self.allowed = tuple(allowed)

    def permits(self, address: IpAddress) -> bool:
        if any(address in network for network in self.allowed):
            return True
        return not forbidden(address)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, connecting only to addresses the guard permits."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            found = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
            )
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in found]
        permitted = [a for a in addresses if self.guard.permits(a)]
        if not permitted:
            shown = ", ".join(sorted({str(a) for a in addresses}))
            raise RefusedAddressError(f"{host} resolves to {shown}: not an address we call")
        return await self.inner.connect_tcp(
            str(permitted[0]), port, timeout=timeout, local_address=local_address,
            socket_options=socket_options,
        )  # fmt: skip

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, guard: AddressGuard, max_connections: int = 256) -> None:
        super().__init__()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=max_connections,
            max_keepalive_connections=20,
            network_backend=GuardedBackend(guard),
        )


class HttpPosted:
    """What one attempt came to."""

    __slots__ = ("error", "latency_ms", "response", "status")

    def __init__(
        self, status: int | None, latency_ms: float, error: str | None, response: str
    ) -> None:
        self.status = status
        self.latency_ms = latency_ms
        self.error = error
        self.response = response


class WebhookPoster:
    """``services.callbacks.Poster`` over httpx."""

    def __init__(self, guard: AddressGuard, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self.client = httpx.AsyncClient(
            transport=GuardedTransport(guard),
            follow_redirects=False,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": "Kontor-Webhooks/1"},
        )

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpPosted:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.post(url, headers=dict(headers), content=body)
                text = (await response.aread())[: SNIPPET * 4].decode("utf-8", "replace")
        except TimeoutError:
            return HttpPosted(None, _ms(started), f"no answer within {self.timeout:g} s", "")
        except httpx.HTTPError as exc:
            return HttpPosted(None, _ms(started), f"{type(exc).__name__}: {exc}"[:SNIPPET], "")
        return HttpPosted(response.status_code, _ms(started), None, text[:SNIPPET])

    async def aclose(self) -> None:
        await self.client.aclose()


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000.0, 1)
