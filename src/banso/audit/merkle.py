"""RFC 6962 / RFC 9162 §2.1 Merkle tree hashing, proofs and verifiers over bytes (A1, A3).

Pure functions: no database, no clock. ``leaves`` are raw entries (they get leaf-hashed);
the ``*_from_hashes`` variants take leaf hashes, which is what the log stores. The
``*_from_nodes`` variants take a lookup of complete, aligned subtree hashes (``NodeKey``:
level and index, level 0 being the leaf hashes), so a stored log can serve proofs with
O(log² n) small lookups instead of reading every leaf (A3); ``*_nodes_needed`` say which.

Proof generators raise ``ValueError`` on impossible arguments; verifiers never raise and
answer ``False`` for any malformed input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from hashlib import sha256

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = sha256(b"").digest()

NodeKey = tuple[int, int]
"""(level, index): the complete subtree over leaves [index·2^level, (index+1)·2^level)."""

_RangeHash = Callable[[int, int], bytes]  # MTH(D[lo:hi]) for the proof recursions


def leaf_hash(entry: bytes) -> bytes:
    """Return SHA-256(0x00 ‖ entry), the hash of one log entry (A1)."""
    return sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 ‖ left ‖ right), the hash of an interior node (A1)."""
    return sha256(NODE_PREFIX + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """Return the Merkle tree hash of leaf hashes ``hashes[lo:hi]``, bottom-up in O(hi - lo)."""
    if hi <= lo:
        return EMPTY_ROOT
    level = list(hashes[lo:hi])
    # Pairing level by level and carrying an odd last node up unchanged builds exactly the
    # RFC 6962 tree (split at the largest power of two), without recursion.
    while len(level) > 1:
        it = iter(level)
        nxt = [sha256(NODE_PREFIX + a + b).digest() for a, b in zip(it, it)]
        if len(level) & 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the tree head of a log given its leaf hashes."""
    return _mth(hashes, 0, len(hashes))


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """Return the tree head of a log given its raw entries."""
    return root_from_hashes([leaf_hash(e) for e in leaves])


def _path(m: int, mth: _RangeHash, lo: int, hi: int, out: list[bytes]) -> None:
    """Append PATH(m, D[lo:hi]) (RFC 9162 §2.1.3.1) to ``out``, leaf to root."""
    n = hi - lo
    if n <= 1:
        return
    k = _largest_power_of_two_below(n)
    if m < k:
        _path(m, mth, lo, lo + k, out)
        out.append(mth(lo + k, hi))
    else:
        _path(m - k, mth, lo + k, hi, out)
        out.append(mth(lo, lo + k))


def _inclusion(index: int, size: int, mth: _RangeHash) -> list[bytes]:
    if not 0 <= index < size:
        raise ValueError(f"index {index} outside a tree of size {size}")
    out: list[bytes] = []
    _path(index, mth, 0, size, out)
    return out


def inclusion_proof_from_hashes(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """Return the audit path of leaf ``index`` in the tree of ``hashes`` (A3)."""
    return _inclusion(index, len(hashes), lambda lo, hi: _mth(hashes, lo, hi))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Return the audit path of entry ``index`` in the tree of raw ``leaves`` (A3)."""
    return inclusion_proof_from_hashes(index, [leaf_hash(e) for e in leaves])


def _subproof(m: int, mth: _RangeHash, lo: int, hi: int, whole: bool, out: list[bytes]) -> None:
    """Append SUBPROOF(m, D[lo:hi], b) (RFC 9162 §2.1.4.1) to ``out``."""
    n = hi - lo
    if m == n:
        if not whole:
            out.append(mth(lo, hi))
        return
    k = _largest_power_of_two_below(n)
    if m <= k:
        _subproof(m, mth, lo, lo + k, whole, out)
        out.append(mth(lo + k, hi))
    else:
        _subproof(m - k, mth, lo + k, hi, False, out)
        out.append(mth(lo, lo + k))


def _consistency(old_size: int, size: int, mth: _RangeHash) -> list[bytes]:
    if not 0 <= old_size <= size:
        raise ValueError(f"old size {old_size} outside 0..{size}")
    out: list[bytes] = []
    if 0 < old_size < size:
        _subproof(old_size, mth, 0, size, True, out)
    return out


def consistency_proof_from_hashes(old_size: int, hashes: Sequence[bytes]) -> list[bytes]:
    """Return the proof that the tree of ``old_size`` is a prefix of the tree of ``hashes`` (A3)."""
    return _consistency(old_size, len(hashes), lambda lo, hi: _mth(hashes, lo, hi))


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Return the consistency proof between ``old_size`` and the tree of raw ``leaves`` (A3)."""
    return consistency_proof_from_hashes(old_size, [leaf_hash(e) for e in leaves])


def _mth_from_nodes(lo: int, hi: int, get: Callable[[int, int], bytes]) -> bytes:
    """Return MTH(D[lo:hi]) from subtree hashes: one lookup per aligned power-of-two piece.

    RFC 9162 §2.1.1: a range that is not one complete aligned subtree splits at the largest
    power of two below its size, so a range of n leaves needs at most about log2(n) lookups.
    """
    n = hi - lo
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and lo % n == 0:
        return get(n.bit_length() - 1, lo // n)
    k = _largest_power_of_two_below(n)
    return node_hash(_mth_from_nodes(lo, lo + k, get), _mth_from_nodes(lo + k, hi, get))


def _lookup(nodes: Mapping[NodeKey, bytes]) -> _RangeHash:
    def get(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise LookupError(f"subtree node (level {level}, index {index}) is missing") from None

    return lambda lo, hi: _mth_from_nodes(lo, hi, get)


def _recorder(keys: list[NodeKey]) -> _RangeHash:
    """Return a range hash that only records the nodes it would read (answers are placeholders)."""
    seen: set[NodeKey] = set()

    def get(level: int, index: int) -> bytes:
        if (level, index) not in seen:
            seen.add((level, index))
            keys.append((level, index))
        return EMPTY_ROOT

    return lambda lo, hi: _mth_from_nodes(lo, hi, get)


def inclusion_proof_nodes_needed(index: int, size: int) -> list[NodeKey]:
    """Return the subtree nodes :func:`inclusion_proof_from_nodes` reads (``ValueError`` on a bad index)."""
    keys: list[NodeKey] = []
    _inclusion(index, size, _recorder(keys))
    return keys


def inclusion_proof_from_nodes(index: int, size: int, nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    """Return the audit path of leaf ``index`` in a tree of ``size`` from stored subtree hashes (A3).

    Raises ``LookupError`` when a needed node is not in ``nodes``.
    """
    return _inclusion(index, size, _lookup(nodes))


def consistency_proof_nodes_needed(old_size: int, size: int) -> list[NodeKey]:
    """Return the subtree nodes :func:`consistency_proof_from_nodes` reads (``ValueError`` on bad sizes)."""
    keys: list[NodeKey] = []
    _consistency(old_size, size, _recorder(keys))
    return keys


def consistency_proof_from_nodes(old_size: int, size: int, nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    """Return the consistency proof between ``old_size`` and ``size`` from stored subtree hashes (A3).

    Raises ``LookupError`` when a needed node is not in ``nodes``.
    """
    return _consistency(old_size, size, _lookup(nodes))


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _hash_list(proof: object) -> list[bytes] | None:
    """Return ``proof`` as a list of 32-byte hashes, or None when it is not one."""
    if isinstance(proof, (bytes, str)) or not isinstance(proof, Sequence):
        return None
    items = list(proof)
    return items if all(_is_hash(p) for p in items) else None


def verify_inclusion_hash(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Return True when ``proof`` shows leaf hash ``leaf_hash`` at ``index`` under ``root`` (RFC 9162 §2.1.3.2)."""
    path = _hash_list(proof)
    if path is None or not (_is_hash(leaf_hash) and _is_hash(root) and _is_size(index) and _is_size(size)):
        return False
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_inclusion(leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Return True when ``proof`` shows raw entry ``leaf`` at ``index`` in the tree with head ``root``."""
    if not isinstance(leaf, bytes):
        return False
    return verify_inclusion_hash(leaf_hash(leaf), index, tree_size, proof, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Return True when ``proof`` shows the old tree is a prefix of the new one (RFC 9162 §2.1.4.2)."""
    path = _hash_list(proof)
    if path is None or not (_is_size(old_size) and _is_size(new_size) and _is_hash(old_root) and _is_hash(new_root)):
        return False
    if old_size > new_size:
        return False
    if old_size == new_size:
        return not path and old_root == new_root
    if old_size == 0:
        # The empty tree is a prefix of every tree; nothing to prove, but the old head must be the empty one.
        return not path and old_root == EMPTY_ROOT
    if not path:
        return False
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class CompactRange:
    """The frontier of an append-only tree: one perfect-subtree hash per set bit of ``size``.

    Appending is O(log n) and the root needs no leaves, so the log keeps only this in its
    head row and still knows its root after every append (A1).
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        nodes = list(hashes)
        if not _is_size(size):
            raise ValueError("size must be a non-negative int")
        if len(nodes) != size.bit_count() or not all(_is_hash(h) for h in nodes):
            raise ValueError(f"a frontier of size {size} needs {size.bit_count()} 32-byte hashes")
        self._size = size
        self._hashes = nodes  # largest (leftmost) subtree first

    @property
    def size(self) -> int:
        """Return the number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """Return a copy of the frontier, largest subtree first."""
        return list(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[NodeKey, bytes]]:
        """Append one leaf hash, merging completed subtrees; return the subtrees it completed.

        Appending leaf ``seq`` completes, for each level L >= 1 while (seq + 1) is divisible
        by 2^L, the aligned subtree (L, (seq + 1) / 2^L - 1); the log stores these so proofs
        need no leaf scan (A3). They come lowest level first.
        """
        if not _is_hash(leaf_hash):
            raise ValueError("leaf hash must be 32 bytes")
        nodes = self._hashes
        nodes.append(leaf_hash)
        n = self._size
        done: list[tuple[NodeKey, bytes]] = []
        level = 0
        while n & 1:
            right = nodes.pop()
            nodes[-1] = sha256(NODE_PREFIX + nodes[-1] + right).digest()
            n >>= 1
            level += 1
            done.append(((level, ((self._size + 1) >> level) - 1), nodes[-1]))
        self._size += 1
        return done

    def root(self) -> bytes:
        """Return the tree head of the leaves appended so far."""
        nodes = self._hashes
        if not nodes:
            return EMPTY_ROOT
        r = nodes[-1]
        for h in reversed(nodes[:-1]):
            r = sha256(NODE_PREFIX + h + r).digest()
        return r

    def to_hex(self) -> list[str]:
        """Return the frontier as hex strings, for storage in the head row."""
        return [h.hex() for h in self._hashes]

    @classmethod
    def from_hex(cls, size: int, hexes: Iterable[str]) -> CompactRange:
        """Rebuild a frontier stored with :meth:`to_hex`."""
        return cls(size, (bytes.fromhex(h) for h in hexes))

    def copy(self) -> CompactRange:
        """Return an independent copy."""
        return CompactRange(self._size, self._hashes)
