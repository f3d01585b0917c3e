"""The compile caches' checked files: whole or absent, and a damaged one is detected (cpu objects, cubins)."""
import pytest

from xlite.codegen.checked_file import DamagedFile, discard, read_checked, write_checked

MAGIC = b"XLTEST\x00\x01"


def test_round_trip_and_missing(tmp_path):
    path = tmp_path / "sub" / "entry.bin"
    assert read_checked(path, MAGIC) is None
    write_checked(path, MAGIC, b"payload bytes")
    assert bytes(read_checked(path, MAGIC)) == b"payload bytes"
    assert [p.name for p in path.parent.iterdir()] == ["entry.bin"]      # no temporary left behind


@pytest.mark.parametrize("damage", [
    lambda data: data[:10],                                   # short header
    lambda data: data[:-1],                                   # truncated payload
    lambda data: data[:-1] + bytes([data[-1] ^ 1]),           # a flipped bit
    lambda data: b"XLOTHER\x01" + data[8:],                   # another format
])
def test_damage_is_detected_and_discarded(tmp_path, damage):
    path = tmp_path / "entry.bin"
    write_checked(path, MAGIC, b"some payload")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DamagedFile):
        read_checked(path, MAGIC)
    discard(path)
    discard(path)                                             # already gone is fine
    assert not path.exists()


@pytest.mark.slow
def test_a_damaged_cubin_is_compiled_again(tmp_path, monkeypatch):
    from xlite.codegen.cuda import compiler
    if compiler.find_nvcc() is None:
        pytest.skip("nvcc is not installed")
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))
    source = 'extern "C" __global__ void k(float* x) { x[threadIdx.x] += 1.0f; }\n'
    first = compiler.compile_cubin(source, "sm_90")
    (path,) = (tmp_path / "cuda").glob("*.cubin")
    path.write_bytes(path.read_bytes()[:-3])
    damaged = compiler.STATS["damaged"]
    assert compiler.compile_cubin(source, "sm_90") == first
    assert compiler.STATS["damaged"] == damaged + 1
    hits = compiler.STATS["hits"]
    assert compiler.compile_cubin(source, "sm_90") == first and compiler.STATS["hits"] == hits + 1


@pytest.mark.slow
def test_a_cubin_entry_with_a_good_checksum_but_no_cuda_object_is_compiled_again(tmp_path, monkeypatch):
    from xlite.codegen.cuda import compiler
    if compiler.find_nvcc() is None:
        pytest.skip("nvcc is not installed")
    monkeypatch.setenv("XLITE_CACHE_DIR", str(tmp_path))
    source = 'extern "C" __global__ void k(float* x) { x[threadIdx.x] *= 2.0f; }\n'
    first = compiler.compile_cubin(source, "sm_90")
    (path,) = (tmp_path / "cuda").glob("*.cubin")
    write_checked(path, compiler.MAGIC, b"\x7fELF" + bytes(len(first) - 4))     # framing and digest hold
    damaged = compiler.STATS["damaged"]
    assert compiler.compile_cubin(source, "sm_90") == first
    assert compiler.STATS["damaged"] == damaged + 1
    assert bytes(read_checked(path, compiler.MAGIC)) == first


def test_a_directory_in_place_of_a_file_is_damaged_and_no_temporary_is_left(tmp_path):
    """(FIFOs and symlinks to devices, which would hang or never end, are tested in a subprocess with a
    timeout: tests/codegen/cpu/test_cpu_cache_hazards.py.)"""
    path = tmp_path / "entry.bin"
    path.mkdir()
    with pytest.raises(DamagedFile):
        read_checked(path, MAGIC)
    write_checked(path, MAGIC, b"payload")
    assert [p.name for p in tmp_path.iterdir()] == ["entry.bin"] and path.is_dir()


def test_a_directory_under_its_bound_is_scanned_once_per_rescan_every_writes(tmp_path, monkeypatch):
    """Writes count their bytes instead of listing the directory each time (n writes made O(n^2) stats)."""
    from xlite.codegen import checked_file
    scans = []
    evict = checked_file.evict
    monkeypatch.setattr(checked_file, "evict", lambda *args, **kwargs: scans.append(1) or evict(*args, **kwargs))
    for i in range(2 * checked_file.RESCAN_EVERY + 3):
        write_checked(tmp_path / f"{i}.bin", MAGIC, b"x" * 10)
    assert len(scans) == 3
    monkeypatch.setenv("XLITE_CACHE_MAX_BYTES", "1")          # a write that would pass the bound scans and evicts
    write_checked(tmp_path / "last.bin", MAGIC, b"y")
    assert len(scans) == 4 and [p.name for p in tmp_path.iterdir()] == ["last.bin"]
