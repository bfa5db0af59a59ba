"""Token shards: the reference format, and a clear error for every corrupt file."""

from __future__ import annotations

import numpy as np
import pytest

from pgolf.data.shards import (
    HEADER_BYTES,
    SHARD_MAGIC,
    SHARD_VERSION,
    list_shards,
    load_tokens,
    read_shard,
    read_shard_header,
    write_shard,
)
from pgolf.errors import DataError


def _raw_shard(path, tokens, *, magic=SHARD_MAGIC, version=SHARD_VERSION, count=None, extra=b""):
    header = np.zeros(256, dtype="<i4")
    header[:3] = (magic, version, len(tokens) if count is None else count)
    path.write_bytes(header.tobytes() + np.asarray(tokens, dtype="<u2").tobytes() + extra)
    return path


@pytest.mark.parametrize("n", [0, 1, 7, 1000])
def test_round_trip_gives_the_same_tokens(tmp_path, n):
    tokens = np.random.default_rng(n).integers(0, 65536, size=n)
    write_shard(tmp_path / "s.bin", tokens)
    back = read_shard(tmp_path / "s.bin")
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, tokens)


def test_written_file_is_the_reference_layout(tmp_path):
    write_shard(tmp_path / "s.bin", [1, 2, 65535])
    raw = (tmp_path / "s.bin").read_bytes()
    assert len(raw) == HEADER_BYTES + 3 * 2
    header = np.frombuffer(raw[:HEADER_BYTES], dtype="<i4")
    assert header[:3].tolist() == [20240520, 1, 3] and not header[3:].any()
    assert np.frombuffer(raw[HEADER_BYTES:], dtype="<u2").tolist() == [1, 2, 65535]
    assert [p.name for p in tmp_path.iterdir()] == ["s.bin"]  # no temporary file left behind


def test_reading_a_hand_made_reference_shard(tmp_path):
    path = _raw_shard(tmp_path / "ref.bin", [1, 500, 1023])
    assert read_shard(path).tolist() == [1, 500, 1023]
    assert read_shard_header(path) == 3


@pytest.mark.parametrize("bad", [-1, 65536, 70000])
def test_writing_a_token_outside_uint16_is_an_error_naming_file_and_token(tmp_path, bad):
    with pytest.raises(DataError, match=rf"s\.bin: token {bad} at position 2 is outside \[0, 65535\]"):
        write_shard(tmp_path / "s.bin", [1, 2, bad, 3])
    assert not (tmp_path / "s.bin").exists()


def test_wrong_magic_is_named(tmp_path):
    path = _raw_shard(tmp_path / "m.bin", [1, 2], magic=12345)
    with pytest.raises(DataError, match=r"m\.bin: wrong magic 12345 \(expected 20240520\)"):
        read_shard(path)


def test_wrong_version_is_named(tmp_path):
    path = _raw_shard(tmp_path / "v.bin", [1, 2], version=2)
    with pytest.raises(DataError, match=r"v\.bin: unsupported shard version 2 \(expected 1\)"):
        read_shard(path)


def test_truncated_header_is_named(tmp_path):
    path = tmp_path / "h.bin"
    path.write_bytes(np.array([SHARD_MAGIC, SHARD_VERSION, 0], dtype="<i4").tobytes())
    with pytest.raises(DataError, match=r"h\.bin: truncated header: file has 12 bytes"):
        read_shard(path)


def test_empty_file_is_a_truncated_header(tmp_path):
    (tmp_path / "e.bin").write_bytes(b"")
    with pytest.raises(DataError, match="truncated header"):
        read_shard(tmp_path / "e.bin")


def test_short_file_is_named(tmp_path):
    path = _raw_shard(tmp_path / "short.bin", [1, 2, 3], count=10)
    with pytest.raises(DataError, match=r"short\.bin: short file: header says 10 tokens \(1044 bytes\) but the file has 1030"):
        read_shard(path)


def test_extra_bytes_are_a_count_size_mismatch(tmp_path):
    path = _raw_shard(tmp_path / "long.bin", [1, 2, 3], count=2)
    with pytest.raises(DataError, match=r"long\.bin: token count/size mismatch: header says 2 tokens"):
        read_shard(path)
    odd = _raw_shard(tmp_path / "odd.bin", [1, 2], extra=b"\x00")
    with pytest.raises(DataError, match="count/size mismatch"):
        read_shard(odd)


def test_negative_count_is_named(tmp_path):
    path = _raw_shard(tmp_path / "neg.bin", [], count=-5)
    with pytest.raises(DataError, match=r"neg\.bin: token count mismatch: header says -5"):
        read_shard(path)


def test_missing_shard_is_named(tmp_path):
    with pytest.raises(DataError, match=r"nope\.bin: shard file not found"):
        read_shard(tmp_path / "nope.bin")


def test_glob_matching_nothing_is_an_error(tmp_path):
    with pytest.raises(DataError, match="glob matched nothing"):
        list_shards(tmp_path / "x_*.bin")


def test_shards_are_listed_and_concatenated_in_sorted_order(tmp_path):
    write_shard(tmp_path / "d_000002.bin", [5, 6])
    write_shard(tmp_path / "d_000000.bin", [1, 2])
    write_shard(tmp_path / "d_000001.bin", [3, 4])
    assert [p.name for p in list_shards(tmp_path / "d_*.bin")] == ["d_000000.bin", "d_000001.bin", "d_000002.bin"]
    assert load_tokens(tmp_path / "d_*.bin").tolist() == [1, 2, 3, 4, 5, 6]
