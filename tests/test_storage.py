"""Compressed model files: Huffman codes (round trip, prefix property, optimality, canonical
form), the relative index with fillers (against a loop reference), and the .mcz file (exact
round trip, every one-byte corruption and every truncation detected, atomic writes)."""
import heapq
import math

import numpy as np
import pytest

from minicompress import nn, pruning
from minicompress.quant.sharing import SharedWeights
from minicompress.storage import (canonical_code, code_lengths, entropy, expected_length,
                                  huffman_decode, huffman_encode, inspect_compressed,
                                  load_compressed, positions_from_index, relative_index,
                                  save_compressed)
from minicompress.storage.bits import pack_fixed, unpack_fixed


# ----- Huffman --------------------------------------------------------------------------------------
def streams(rng):
    yield rng.integers(0, 2, 1)
    yield np.full(50, 7)  # one symbol
    yield rng.integers(0, 3, 200)
    yield rng.integers(-5, 300, 3000)  # sparse, negative symbols too
    yield np.minimum(rng.geometric(0.08, 5000) - 1, 31)  # gaps of a pruned layer
    yield rng.zipf(1.5, 4000) % 1000  # very skewed: long codes


def test_huffman_round_trip_on_random_streams(rng):
    for x in streams(rng):
        data, table = huffman_encode(x)
        assert np.array_equal(huffman_decode(data, table, len(x)), x)
        assert np.array_equal(huffman_decode(data, table, len(x) // 2), x[:len(x) // 2])
        assert len(data) == math.ceil(sum(len(table[s]) for s in x.tolist()) / 8)


def test_huffman_code_is_prefix_free_and_canonical(rng):
    for x in streams(rng):
        _, table = huffman_encode(x)
        codes = list(table.values())
        assert not any(a != b and b.startswith(a) for a in codes for b in codes)
        # canonical: in (length, symbol) order the codes are consecutive integers, left-aligned
        ordered = sorted(table, key=lambda s: (len(table[s]), s))
        for a, b in zip(ordered, ordered[1:]):
            la, lb = len(table[a]), len(table[b])
            assert int(table[b], 2) == (int(table[a], 2) + 1) << (lb - la)
        assert canonical_code({s: len(c) for s, c in table.items()}) == table


def optimal_cost(counts) -> int:
    """Σ count·length of an optimal prefix code, independently: the sum of the merged weights
    (each merge adds one bit to every symbol below it)."""
    heap = list(counts)
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost


def test_huffman_code_is_optimal_and_within_one_bit_of_the_entropy(rng):
    for x in list(streams(rng))[2:]:
        _, table = huffman_encode(x)
        values, counts = np.unique(x, return_counts=True)
        ours = sum(c * len(table[v]) for v, c in zip(values.tolist(), counts.tolist()))
        assert ours == optimal_cost(counts.tolist())
        h, length = entropy(x), expected_length(table, x)
        assert h <= length < h + 1


def test_huffman_lengths_by_hand():
    # counts 5, 2, 1, 1: merge 1+1, then 2+2, then 4+5 -> lengths 1, 2, 3, 3
    assert code_lengths({10: 5, 11: 2, 12: 1, 13: 1}) == {10: 1, 11: 2, 12: 3, 13: 3}
    assert canonical_code({10: 1, 11: 2, 12: 3, 13: 3}) == {10: "0", 11: "10", 12: "110", 13: "111"}
    assert code_lengths({4: 9}) == {4: 1}
    data, table = huffman_encode([10, 11, 10, 13])
    assert huffman_decode(data, table, 4).tolist() == [10, 11, 10, 13]
    assert huffman_encode([]) == (b"", {})
    data, table = huffman_encode(b"abracadabra\xff")  # a byte string: its byte values, 0 to 255
    assert huffman_decode(data, table, 12).tolist() == list(b"abracadabra\xff")
    assert len(table[ord("a")]) == 1 and 255 in table  # "a" is 5 of 12
    assert huffman_decode(b"", {}, 0).size == 0


def test_huffman_decode_accepts_any_prefix_free_table_and_rejects_bad_ones():
    table = {0: "11", 1: "0", 2: "10"}  # prefix-free, not canonical
    bits = "0" + "11" + "10" + "0"  # 1 0 2 1
    data = int(bits.ljust(8, "0"), 2).to_bytes(1, "big")
    assert huffman_decode(data, table, 4).tolist() == [1, 0, 2, 1]
    with pytest.raises(ValueError, match="prefix-free"):
        huffman_decode(data, {0: "1", 1: "10"}, 1)
    with pytest.raises(ValueError, match="string of"):
        huffman_decode(data, {0: "12"}, 1)
    with pytest.raises(ValueError, match="ends"):
        huffman_decode(data, table, 9)  # 8 bits hold at most 8 codes
    with pytest.raises(ValueError, match="match no code"):
        huffman_decode(b"\xff", {0: "0"}, 1)  # an incomplete code: "1" means nothing
    with pytest.raises(ValueError, match="n must"):
        huffman_decode(data, table, -1)
    with pytest.raises(TypeError, match="1-D array of integers"):
        huffman_encode(np.array([0.5, 1.0]))


def test_fixed_width_fields_round_trip(rng):
    for bits in (1, 3, 5, 8, 13):
        x = rng.integers(0, 2 ** bits, 777)
        data = pack_fixed(x, bits)
        assert len(data) == math.ceil(777 * bits / 8)
        assert np.array_equal(unpack_fixed(data, bits, 777), x)
    with pytest.raises(ValueError, match="does not fit"):
        pack_fixed([4], 2)
    with pytest.raises(ValueError, match="truncated"):
        unpack_fixed(b"\x00", 5, 2)


# ----- the relative index ---------------------------------------------------------------------------
def relative_index_loop(positions, bits):
    """The readable version: walk the positions, emit fillers while the gap is too long."""
    m, out, previous = 2 ** bits - 1, [], -1
    for p in positions:
        gap = p - previous - 1
        while gap >= m:
            out.append(m)
            gap -= m
        out.append(gap)
        previous = p
    return out


def test_relative_index_matches_the_loop_and_round_trips(rng):
    for bits in (1, 2, 3, 5, 8):
        for density in (0.9, 0.3, 0.08, 0.01):
            size = 3000
            positions = np.flatnonzero(rng.random(size) < density)
            symbols = relative_index(positions, bits)
            assert symbols.tolist() == relative_index_loop(positions.tolist(), bits)
            assert symbols.max(initial=0) <= 2 ** bits - 1
            assert np.array_equal(positions_from_index(symbols, bits, size), positions)


def test_relative_index_fillers_by_hand():
    # 3 bits: m = 7. Gaps 0 (position 0), 20 = 7 + 7 + 6, 7 = 7 + 0
    assert relative_index([0, 21, 29], 3).tolist() == [0, 7, 7, 6, 7, 0]
    assert positions_from_index([0, 7, 7, 6, 7, 0], 3).tolist() == [0, 21, 29]
    assert relative_index([], 5).size == 0
    with pytest.raises(ValueError, match="strictly increasing"):
        relative_index([3, 3], 5)
    with pytest.raises(ValueError, match="bits"):
        relative_index([1], 0)
    with pytest.raises(ValueError, match="reaches position"):
        positions_from_index([7, 7, 6], 3, size=20)


# ----- the file -------------------------------------------------------------------------------------
def small_models(dtype=np.float32):
    """A dense MLP, a pruned one, a pruned and shared one, and a shared CNN."""
    r = np.random.default_rng(3)
    dense = nn.Sequential(nn.Flatten(), nn.Linear(16, 12, rng=r, dtype=dtype), nn.ReLU(),
                          nn.Linear(12, 5, rng=r, dtype=dtype))
    pruned = nn.Sequential(nn.Flatten(), nn.Linear(16, 12, rng=r, dtype=dtype), nn.ReLU(),
                           nn.Linear(12, 5, rng=r, dtype=dtype))
    pruning.prune(pruned[1].weight, 0.8)
    pruning.prune(pruned[3].weight, 0.5)
    pruning.prune(pruned[3].bias, 2)  # a masked bias is stored sparse too
    first = nn.Linear(16, 12, rng=r, dtype=dtype)
    pruning.prune(first.weight, 0.7)
    shared = nn.Sequential(nn.Flatten(), SharedWeights.from_layer(first, 4), nn.ReLU(),
                           nn.Linear(12, 5, rng=r, dtype=dtype))
    conv = nn.Sequential(nn.Conv2d(1, 3, 3, rng=r, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3, 4, rng=r, dtype=dtype))
    pruning.prune(conv[0].weight, 0.6)
    conv.layers[0] = SharedWeights.from_layer(conv[0], 5)
    return dict(dense=dense, pruned=pruned, shared=shared, conv=conv)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("huffman", [True, False])
def test_files_round_trip_exactly(tmp_path, dtype, huffman):
    x = np.random.default_rng(0).random((7, 1, 4, 4)).astype(dtype)
    for name, model in small_models(dtype).items():
        path = tmp_path / f"{name}.mcz"
        written = save_compressed(model, path, huffman=huffman, index_bits=2)
        assert written == path.stat().st_size
        loaded = load_compressed(path)
        assert np.array_equal(loaded(x), model(x)), name
        for (n1, p1), (n2, p2) in zip(model.named_parameters(), loaded.named_parameters()):
            assert n1 == n2 and p1.data.dtype == p2.data.dtype
            assert np.array_equal(p1.value(), p2.value())
            assert (p1.mask is None) == (p2.mask is None) and (p1.mask is None or np.array_equal(p1.mask, p2.mask))
        for a, b in zip(model, loaded):
            if isinstance(a, SharedWeights):
                assert isinstance(b, SharedWeights) and np.array_equal(a.index, b.index)


def test_fixed_width_file_costs_what_the_arithmetic_says(tmp_path):
    model = small_models()["shared"]
    save_compressed(model, tmp_path / "f.mcz", huffman=False, index_bits=3)
    record = inspect_compressed(tmp_path / "f.mcz")["tensors"][0]
    streams = dict(record["streams"])
    assert record["encoding"] == "shared" and record["k"] == 4 and record["code_bits"] == 2
    assert streams["codes"] == math.ceil(record["entries"] * 2 / 8)
    assert streams["gaps"] == math.ceil(record["symbols"] * 3 / 8)
    assert streams["codebook"] == 4 * 4
    kept = int((model[1].index >= 0).sum())
    assert record["entries"] == kept and record["symbols"] >= kept


def test_every_one_byte_corruption_and_every_truncation_is_detected(tmp_path):
    path = tmp_path / "m.mcz"
    save_compressed(small_models()["shared"], path)
    blob = path.read_bytes()
    bad = tmp_path / "bad.mcz"
    for i in range(len(blob)):
        for change in (0x01, 0xFF):
            bad.write_bytes(blob[:i] + bytes([blob[i] ^ change]) + blob[i + 1:])
            with pytest.raises(ValueError):
                load_compressed(bad)
    for n in range(len(blob)):
        bad.write_bytes(blob[:n])
        with pytest.raises(ValueError, match="truncated|shorter|not a minicompress"):
            load_compressed(bad)
    bad.write_bytes(blob + b"\x00")
    with pytest.raises(ValueError, match="padded"):
        load_compressed(bad)


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no compressed model"):
        load_compressed(tmp_path / "missing.mcz")
    (tmp_path / "foreign.mcz").write_bytes(b"PK\x03\x04" + bytes(40))
    with pytest.raises(ValueError, match="not a minicompress compressed model"):
        load_compressed(tmp_path / "foreign.mcz")
    path = tmp_path / "m.mcz"
    save_compressed(small_models()["dense"], path)
    blob = bytearray(path.read_bytes())
    blob[3] = 9  # a newer version
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="version 9"):
        load_compressed(path)
    with pytest.raises(TypeError, match="expected a Module"):
        save_compressed("model", path)


def test_a_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    class Custom(nn.Module):
        def forward(self, x):
            return x

    path = tmp_path / "m.mcz"
    save_compressed(small_models()["dense"], path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="not an engine layer"):
        save_compressed(nn.Sequential(nn.Flatten(), Custom()), path)

    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr("minicompress.files.os.fsync", fail)  # fails after the bytes are written
    with pytest.raises(OSError, match="disk full"):
        save_compressed(small_models()["shared"], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.mcz"]  # no temporary file left behind
