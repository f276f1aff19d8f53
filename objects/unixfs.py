"""IPFS content identifiers for our files, as `ipfs add --cid-version 1 --raw-leaves` makes them.

A file that fits in one chunk (256 KiB) is one raw block: its CID is the raw codec (0x55)
over the SHA-256 of its bytes. A larger file is cut into 256 KiB raw leaves, joined by
UnixFS `File` nodes in dag-pb (0x70) in the balanced layout, at most 174 links a node, as
the reference importer (`ipfs-unixfs-importer`) builds it; its CID is the root node's.
Anyone can therefore fetch our files from IPFS, or check ours against theirs.

The hasher is fed the bytes once, as they are written, and keeps only each leaf's digest
and size, so a large file costs 40 bytes per 256 KiB. The CID and multihash encodings come
from `multiformats`; the two small protobuf messages (dag-pb's PBNode and UnixFS's Data) are
encoded here, in the canonical field order the reference implementations use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from multiformats import CID, varint

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
_RAW, _DAG_PB = "raw", "dag-pb"
_UNIXFS_FILE = 2


def raw_cid(sha256: bytes) -> CID:
    """The CID of one raw block whose bytes hash to `sha256`."""
    return CID("base32", 1, _RAW, ("sha2-256", sha256))


def cid_text(cid: CID) -> str:
    """A CIDv1 as IPFS prints it: base32, lower case, `b` multibase prefix."""
    return str(cid.set(base="base32"))


@dataclass(frozen=True)
class DagNode:
    """A node of the file's DAG: a raw leaf, or a dag-pb File node over its children."""

    cid: CID
    file_size: int  # the bytes of the file below this node
    tree_size: int  # the bytes of every block below and including this one (a link's Tsize)
    block: bytes | None = None  # the encoded dag-pb node; None for a raw leaf
    children: tuple[DagNode, ...] = ()

    def walk(self) -> Iterator[DagNode]:
        """This node and every node below it, depth first, as a CAR file lists them."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class UnixFsHasher:
    """Fed a file's bytes in order; `root()` then gives its DAG as IPFS would build it."""

    chunk_size: int = CHUNK_SIZE
    max_links: int = MAX_LINKS
    _pending: bytearray = field(default_factory=bytearray)
    _leaves: list[DagNode] = field(default_factory=list)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._pending += data
        while len(self._pending) >= self.chunk_size:
            self._leaf(bytes(self._pending[: self.chunk_size]))
            del self._pending[: self.chunk_size]

    def root(self) -> DagNode:
        """The root of the file's DAG (call once every byte has been fed)."""
        if self._pending or not self._leaves:
            # An empty file is one empty raw leaf, as the reference importer makes it.
            self._leaf(bytes(self._pending))
            self._pending.clear()
        if len(self._leaves) == 1:
            return self._leaves[0]
        return _balanced(self._leaves, self.max_links)

    def _leaf(self, chunk: bytes) -> None:
        digest = hashlib.sha256(chunk).digest()
        self._leaves.append(DagNode(raw_cid(digest), len(chunk), len(chunk)))


def file_dag(chunks: Iterable[bytes], *, chunk_size: int = CHUNK_SIZE) -> DagNode:
    """The DAG of the bytes `chunks` yield in order (any chunking; it is re-cut)."""
    hasher = UnixFsHasher(chunk_size=chunk_size)
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.root()


def _balanced(nodes: list[DagNode], max_links: int) -> DagNode:
    # The reference importer's balanced builder: group each level by `max_links` until
    # one node remains; a group of one above the leaves still gets its own node.
    while True:
        parents = [
            _file_node(nodes[start : start + max_links])
            for start in range(0, len(nodes), max_links)
        ]
        if len(parents) == 1:
            return parents[0]
        nodes = parents


def _file_node(children: list[DagNode]) -> DagNode:
    data = _field_varint(1, _UNIXFS_FILE) + _field_varint(3, sum(c.file_size for c in children))
    data += b"".join(_field_varint(4, child.file_size) for child in children)
    links = b"".join(_field_bytes(2, _link(child)) for child in children)
    block = links + _field_bytes(1, data)
    digest = hashlib.sha256(block).digest()
    return DagNode(
        cid=CID("base32", 1, _DAG_PB, ("sha2-256", digest)),
        file_size=sum(child.file_size for child in children),
        tree_size=len(block) + sum(child.tree_size for child in children),
        block=block,
        children=tuple(children),
    )


def _link(child: DagNode) -> bytes:
    # PBLink: Hash (1), Name (2, empty but present, as the importers write it), Tsize (3).
    return (
        _field_bytes(1, bytes(child.cid)) + _field_bytes(2, b"") + _field_varint(3, child.tree_size)
    )


def _field_varint(number: int, value: int) -> bytes:
    return varint.encode(number << 3) + varint.encode(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return varint.encode(number << 3 | 2) + varint.encode(len(value)) + value
