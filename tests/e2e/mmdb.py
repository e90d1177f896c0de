"""A small MaxMind DB (.mmdb) writer for the tests, from the public format description
(https://maxmind.github.io/MaxMind-DB/): a binary search tree over the address bits (IPv6,
IPv4 under ::/96), 24-bit records, a 16-byte separator, the data section, then the metadata
marker and map. Enough for GeoIP2-City-shaped records: maps, UTF-8 strings, doubles, unsigned
integers and arrays. Never downloads anything: the tests make their databases with this."""
import ipaddress
import struct

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"


def _control(type_id, size):
    """Control byte(s) for type_id with a payload of size: extended types (> 7) put a zero type
    in the first byte and type - 7 in the next, then the size extension bytes."""
    out = bytearray()
    first = (type_id if type_id <= 7 else 0) << 5
    if size < 29:
        ext = b""
        first |= size
    elif size < 29 + 256:
        first |= 29
        ext = bytes([size - 29])
    elif size < 285 + 65536:
        first |= 30
        ext = struct.pack(">H", size - 285)
    else:
        first |= 31
        ext = struct.pack(">I", size - 65821)[1:]
    out.append(first)
    if type_id > 7:
        out.append(type_id - 7)
    out += ext
    return bytes(out)


def _uint(type_id, value):
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return _control(type_id, len(raw)) + raw


def encode(value):
    """One value of the data section. int: uint32 (uint64 when larger); float: double."""
    if isinstance(value, bool):
        return _control(14, 1 if value else 0)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _control(2, len(raw)) + raw
    if isinstance(value, float):
        return _control(3, 8) + struct.pack(">d", value)
    if isinstance(value, int):
        return _uint(6 if value < 1 << 32 else 9, value)
    if isinstance(value, dict):
        out = _control(7, len(value))
        for k, v in value.items():
            out += encode(str(k)) + encode(v)
        return out
    if isinstance(value, (list, tuple)):
        out = _control(11, len(value))
        for v in value:
            out += encode(v)
        return out
    raise TypeError("cannot encode %r" % (value,))


def build(networks, database_type="GeoIP2-City", description="Parapet test database"):
    """networks: [(CIDR string, record dict)]. IPv4 networks go under ::/96 (as MaxMind's
    IPv6 databases hold them). Returns the file's bytes."""
    data = bytearray()
    offsets = []
    for _, record in networks:
        offsets.append(len(data))
        data += encode(record)
    # The tree: node i is [left, right]; an int < 0 marks data (-1 - index into offsets).
    nodes = [[None, None]]
    for index, (cidr, _) in enumerate(networks):
        net = ipaddress.ip_network(cidr, strict=True)
        if net.version == 4:
            bits = (int(net.network_address), 32, net.prefixlen)
            value, width, plen = bits
            value, width, plen = value, 128, plen + 96
        else:
            value, width, plen = int(net.network_address), 128, net.prefixlen
        if plen == 0:
            raise ValueError("a whole address space is not a network these tests need")
        node = 0
        for depth in range(plen):
            bit = (value >> (width - 1 - depth)) & 1
            if depth == plen - 1:
                nodes[node][bit] = -1 - index
                break
            nxt = nodes[node][bit]
            if nxt is None:
                nodes.append([None, None])
                nxt = len(nodes) - 1
                nodes[node][bit] = nxt
            elif nxt < 0:
                raise ValueError("%s lies inside an earlier network" % cidr)
            node = nxt
    count = len(nodes)
    tree = bytearray()
    for pair in nodes:
        for rec in pair:
            if rec is None:
                v = count  # no data
            elif rec < 0:
                v = count + 16 + offsets[-1 - rec]
            else:
                v = rec
            if v >= 1 << 24:
                raise ValueError("database too large for 24-bit records")
            tree += v.to_bytes(3, "big")
    metadata = {
        "node_count": count,
        "record_size": 24,
        "ip_version": 6,
        "database_type": database_type,
        "languages": ["en"],
        "binary_format_major_version": 2,
        "binary_format_minor_version": 0,
        "build_epoch": 1700000000,
        "description": {"en": description},
    }
    meta = bytearray()
    for k, v in metadata.items():
        meta += encode(k)
        if k in ("record_size", "ip_version", "binary_format_major_version",
                 "binary_format_minor_version"):
            meta += _uint(5, v)  # uint16, as the format wants
        elif k == "build_epoch":
            meta += _uint(9, v)  # uint64
        else:
            meta += encode(v)
    return bytes(tree) + b"\x00" * 16 + bytes(data) + METADATA_MARKER + \
        _control(7, len(metadata)) + bytes(meta)


def city(country, country_name, continent, region, city_name, postal, lat, lon, metro=None):
    """A GeoIP2-City-shaped record."""
    rec = {
        "continent": {"code": continent, "names": {"en": continent}},
        "country": {"iso_code": country, "names": {"en": country_name}},
        "location": {"latitude": float(lat), "longitude": float(lon)},
    }
    if metro is not None:
        rec["location"]["metro_code"] = metro
    if region:
        rec["subdivisions"] = [{"iso_code": region, "names": {"en": region}}]
    if city_name:
        rec["city"] = {"names": {"en": city_name}}
    if postal:
        rec["postal"] = {"code": postal}
    return rec
