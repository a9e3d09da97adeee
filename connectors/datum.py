"""Chinese map datums to WGS-84, decided once per channel (``converter(datum)``).

GCJ-02 is WGS-84 plus a published, smooth offset (300–700 m in Shanghai). The forward
offset below is prcoords' ``wgs_gcj`` (CC0), restated with its constants folded so one
call costs ~1 µs instead of ~3.5 µs: the connectors convert every 12319 and grid record,
and the benchmark budget per record is ~30 µs. The inverse is prcoords' own scheme: the
rough inverse (one forward call) plus fixed-point steps; two steps land within 1e-8
degrees of the fixed point anywhere in China (one step can be 2 cm off), and within
2e-7 degrees of ``prcoords.gcj_wgs_bored``, which stops earlier — a test holds the two
together. BD-09 is rare and goes through ``prcoords.bd_wgs_bored`` unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import prcoords

from schemas.models import Datum

Converter = Callable[[float, float], tuple[float, float]]

_PI = math.pi
_A = prcoords.GCJ_A  # Krasovsky 1940 semi-major axis, as GCJ-02 uses it
_EE = prcoords.GCJ_EE
_LAT_ARC = math.radians(_A * (1 - _EE))
_LON_ARC = math.radians(_A)


def _in_china(lon: float, lat: float) -> bool:
    return 0.8293 <= lat <= 55.8271 and 72.004 <= lon <= 137.8347  # prcoords.sanity_in_china_p


# The sine arguments' factors, and the degree-to-radian factor, folded once.
_S6, _S2, _S1, _S3, _S12, _S30 = 6 * _PI, 2 * _PI, _PI, _PI / 3, _PI / 12, _PI / 30
_RAD = _PI / 180  # what math.radians multiplies by


def _offset(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (lon, lat): prcoords.wgs_gcj's formula.

    Written for the interpreter: the shared square root and product once, the factors
    folded, ``magic ** 1.5`` as ``magic * sqrt(magic)``. Within 1e-17 degrees of the
    plain restatement (float rounding only).
    """
    sin, sqrt = math.sin, math.sqrt
    x, y = lon - 105.0, lat - 35.0
    common = 2 * sin(x * _S6) + 2 * sin(x * _S2)
    root = sqrt(abs(x))
    xy = 0.1 * x * y
    d_lat = (
        -100
        + 2 * x
        + 3 * y
        + 0.2 * y * y
        + xy
        + 0.2 * root
        + (common + 2 * sin(y * _S1) + 4 * sin(y * _S3) + 16 * sin(y * _S12) + 32 * sin(y * _S30)) * 20 / 3
    )
    d_lon = (
        300
        + x
        + 2 * y
        + 0.1 * x * x
        + xy
        + 0.1 * root
        + (common + 2 * sin(x * _S1) + 4 * sin(x * _S3) + 15 * sin(x * _S12) + 30 * sin(x * _S30)) * 20 / 3
    )
    rad = lat * _RAD
    s = sin(rad)
    magic = 1 - _EE * s * s
    root_magic = sqrt(magic)
    return d_lon * root_magic / (_LON_ARC * math.cos(rad)), d_lat * magic * root_magic / _LAT_ARC


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → WGS-84 (lon, lat), rounded to 1e-7 degrees; outside China the point is unchanged."""
    if not _in_china(lon, lat):
        return lon, lat
    # The rough inverse, then two fixed-point steps: each shrinks the error ~200-fold.
    d_lon, d_lat = _offset(lon, lat)
    d_lon, d_lat = _offset(lon - d_lon, lat - d_lat)
    d_lon, d_lat = _offset(lon - d_lon, lat - d_lat)
    return round(lon - d_lon, 7), round(lat - d_lat, 7)


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 → WGS-84 (lon, lat) with prcoords' iterative inverse, rounded to 1e-7 degrees."""
    wgs = prcoords.bd_wgs_bored((lat, lon), False)
    return round(wgs.lon, 7), round(wgs.lat, 7)


def _identity(lon: float, lat: float) -> tuple[float, float]:
    return lon, lat


_CONVERTERS: dict[Datum, Converter] = {
    Datum.WGS84: _identity,
    Datum.GCJ02: gcj02_to_wgs84,
    Datum.BD09: bd09_to_wgs84,
}


def converter(datum: Datum) -> Converter | None:
    """The function taking this datum to WGS-84; None for ``NONE`` (the channel has no coordinates)."""
    return _CONVERTERS.get(datum)
