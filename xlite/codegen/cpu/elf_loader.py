"""Links the CPU backend's object code into this process without LLVM: a small x86-64 ELF loader.

The backend's objects (LLVM, large code model) are simple: code in .ltext/.text, constants in
.rodata*, absolute 64-bit relocations (R_X86_64_64) for every address, and a few undefined
symbols (libc/libm, pthreads, the xlite_* BLAS entry points of blas_symbols.py,
MPI's of mpi_provider.py). `ElfCode`
lays the allocated sections out in fresh pages, applies the relocations, makes the read-only
part executable (never writable and executable at once) and finds the entry symbols; it needs
no `llvmlite.binding`, so loading a cached executable costs well under a millisecond and no
LLVM start-up. Anything it does not handle (another machine or format, a relocation or
section kind it does not know, a symbol this process lacks) raises UnsupportedObject, and the
caller uses LLVM's JIT linker (compiler.JitLoadedCode) instead.
"""
from __future__ import annotations

import ctypes
import mmap
import os
import struct
import sys

from xlite import errors
from xlite.codegen.cpu import mpi_provider

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHT_PROGBITS, SHT_SYMTAB, SHT_RELA, SHT_NOBITS, SHT_REL = 1, 2, 4, 8, 9
SHN_UNDEF, SHN_ABS, SHN_COMMON = 0, 0xFFF1, 0xFFF2
R_X86_64_64, R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_32, R_X86_64_32S, R_X86_64_PC64 = 1, 2, 4, 10, 11, 24
STB_WEAK = 2
# Sections whose presence means the object wants more than laying out and relocating (constructors, TLS).
_REFUSED_SECTIONS = (".init_array", ".fini_array", ".ctors", ".dtors", ".tdata", ".tbss", ".preinit_array")
_SECTION = struct.Struct("<IIQQQQIIQQ")
_SYMBOL = struct.Struct("<IBBHQQ")
_RELA = struct.Struct("<QQq")


class UnsupportedObject(Exception):
    """The object needs something this loader does not do; link it with LLVM instead."""


class MalformedObject(UnsupportedObject):
    """The bytes are not a well-formed object (a section, symbol or relocation outside the file or its
    section, an entry symbol missing): never linked, by this loader or by LLVM; a cache drops it."""


def supported_host() -> bool:
    import platform
    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")


class _Libc:
    def __init__(self):
        self.process = ctypes.CDLL(None, use_errno=True)
        self.mmap = self.process.mmap
        self.mmap.restype = ctypes.c_void_p
        self.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_long]
        self.mprotect = self.process.mprotect
        self.mprotect.restype = ctypes.c_int
        self.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        self.munmap = self.process.munmap
        self.munmap.restype = ctypes.c_int
        self.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


_libc: _Libc | None = None
_symbol_cache: dict[str, int] = {}


def _process_symbol(name: str) -> int | None:
    address = _symbol_cache.get(name)
    if address is None:
        try:
            address = ctypes.cast(getattr(_libc.process, name), ctypes.c_void_p).value
        except AttributeError:
            return None
        _symbol_cache[name] = address
    return address


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a if a > 1 else n


class _Object:
    """An ELF64 relocatable object's tables, every offset and index checked against the file."""

    def __init__(self, obj: bytes):
        if len(obj) < 64 or obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
            raise MalformedObject("not a little-endian ELF64 object")
        e_type, e_machine = struct.unpack_from("<HH", obj, 16)
        if e_type != 1 or e_machine != 62:
            raise MalformedObject("not an x86-64 relocatable object")
        self.obj = obj
        shoff, = struct.unpack_from("<Q", obj, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", obj, 0x3A)
        if shentsize != _SECTION.size or shoff + shnum * shentsize > len(obj) or shstrndx >= shnum:
            raise MalformedObject("section header table outside the file")
        self.sections = [_SECTION.unpack_from(obj, shoff + i * shentsize) for i in range(shnum)]
        for sh_name, sh_type, _, _, offset, size, _, _, _, _ in self.sections:
            if sh_type != SHT_NOBITS and offset + size > len(obj):
                raise MalformedObject("a section outside the file")
        self.names_at = self.sections[shstrndx][4]
        symtabs = [i for i, sec in enumerate(self.sections) if sec[1] == SHT_SYMTAB]
        if len(symtabs) != 1:
            raise UnsupportedObject("not exactly one symbol table")
        self.symtab_index = symtabs[0]
        symtab = self.sections[self.symtab_index]
        if symtab[6] >= shnum or symtab[9] not in (0, _SYMBOL.size):
            raise MalformedObject("a bad symbol table")
        self.strtab_at = self.sections[symtab[6]][4]
        self.symbols = [_SYMBOL.unpack_from(obj, symtab[4] + k * _SYMBOL.size)
                        for k in range(symtab[5] // _SYMBOL.size)]

    def name(self, table_offset: int, index: int) -> str:
        start = table_offset + index
        end = self.obj.find(b"\0", start)
        if start >= len(self.obj) or end < 0:
            raise MalformedObject("a name outside the file")
        try:
            return self.obj[start:end].decode()
        except UnicodeDecodeError:
            raise MalformedObject("a name that is not UTF-8") from None

    def section_name(self, index: int) -> str:
        return self.name(self.names_at, self.sections[index][0])

    def relocations(self, loaded):
        """(target section, offset in it, kind, symbol index, addend) of every relocation that applies to
        a section in `loaded`; each inside its section and naming a symbol of the table."""
        for sec in self.sections:
            if sec[1] != SHT_RELA or sec[7] not in loaded:
                continue
            if sec[6] != self.symtab_index or sec[9] not in (0, _RELA.size):
                raise UnsupportedObject("relocations against another symbol table")
            size = self.sections[sec[7]][5]
            for k in range(sec[5] // _RELA.size):
                r_offset, r_info, addend = _RELA.unpack_from(self.obj, sec[4] + k * _RELA.size)
                kind, sym = r_info & 0xFFFFFFFF, r_info >> 32
                width = 8 if kind in (R_X86_64_64, R_X86_64_PC64) else 4
                if r_offset + width > size or sym >= len(self.symbols):
                    raise MalformedObject("a relocation outside its section or symbol table")
                yield sec[7], r_offset, kind, sym, addend

    def defined(self, loaded) -> dict[str, tuple[int, int]]:
        """Defined global and weak symbols in loaded sections: name -> (section, offset), inside it."""
        found = {}
        for st_name, info, _, shndx, value, _ in self.symbols:
            if st_name and shndx in loaded and info >> 4 != 0:
                if value > self.sections[shndx][5]:
                    raise MalformedObject("a symbol outside its section")
                found[self.name(self.strtab_at, st_name)] = (shndx, value)
        return found


def _parse(obj: bytes) -> _Object:
    try:
        return _Object(obj)
    except struct.error:
        raise MalformedObject("a table outside the file") from None


def check_object(obj: bytes, symbols: list[str]) -> None:
    """Raises MalformedObject unless `obj` is a well-formed object defining `symbols` (what a cache
    entry must pass before any linker sees it)."""
    parsed = _parse(obj)
    loaded = {i for i, sec in enumerate(parsed.sections) if sec[2] & SHF_ALLOC and sec[5]}
    for _ in parsed.relocations(loaded):
        pass
    defined = parsed.defined(loaded)
    missing = [s for s in symbols if s not in defined]
    if missing:
        raise MalformedObject(f"the object lacks {', '.join(missing)}")


class ElfCode:
    """An x86-64 ELF relocatable object linked into fresh pages of this process.

    `symbols` are looked up after linking (`address` is the first, `object_address` the second when
    given); `extra` maps undefined symbol names to addresses ahead of the process's own symbols."""

    _base = None            # the mapping, once made (munmap'ed by close() or when the object goes)
    _size = 0

    def __init__(self, obj: bytes, symbols: list[str], extra: dict | None = None):
        global _libc
        if not supported_host():
            raise UnsupportedObject("not an x86-64 Linux host")
        parsed = _parse(obj)
        if _libc is None:
            _libc = _Libc()
        self.obj = obj
        sections = parsed.sections

        # Layout: read-only sections (code, constants) first, then a page-aligned writable part.
        offsets: dict[int, int] = {}
        groups = ([], [])
        for i, (sh_name, sh_type, flags, _, _, size, _, _, align, _) in enumerate(sections):
            name = parsed.section_name(i)
            if name.startswith(_REFUSED_SECTIONS) or sh_type == SHT_REL:
                raise UnsupportedObject(f"section {name}")
            if not flags & SHF_ALLOC or size == 0 or name == ".eh_frame":   # unwind tables are not needed
                continue
            if sh_type not in (SHT_PROGBITS, SHT_NOBITS):
                raise UnsupportedObject(f"section {name} of type {sh_type}")
            groups[1 if flags & SHF_WRITE else 0].append(i)
        page = mmap.PAGESIZE
        cursor = 0
        for i in groups[0]:
            cursor = _align(cursor, max(sections[i][8], 1))
            offsets[i] = cursor
            cursor += sections[i][5]
        readonly = _align(cursor, page)
        cursor = readonly
        self.writable_bytes = sum(sections[i][5] for i in groups[1])    # data the code itself may write
        for i in groups[1]:
            cursor = _align(cursor, max(sections[i][8], 1))
            offsets[i] = cursor
            cursor += sections[i][5]
        total = max(_align(cursor, page), page)
        defined = parsed.defined(offsets)
        relocations = list(parsed.relocations(offsets))         # all checked before any page is mapped
        missing = [s for s in symbols if s not in defined]
        if missing:
            raise MalformedObject(f"the object lacks {', '.join(missing)}")
        base = _libc.mmap(None, total, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                          -1, 0)
        if base is None or base == ctypes.c_void_p(-1).value:
            raise errors.ResourceExhaustedError(None, None, "mmap of the generated code failed: out of memory")
        self._base, self._size = base, total
        try:
            self._link(parsed, offsets, relocations, defined, base, total, readonly, symbols, extra or {})
        except BaseException:
            self._release()
            raise

    def _link(self, parsed, offsets, relocations, defined, base, total, readonly, symbols, extra) -> None:
        obj, sections, entries = parsed.obj, parsed.sections, parsed.symbols
        image = bytearray(total)
        for i, off in offsets.items():
            _, sh_type, _, _, file_off, size, _, _, _, _ = sections[i]
            if sh_type == SHT_PROGBITS:
                image[off:off + size] = obj[file_off:file_off + size]
        resolved: dict[int, int] = {}

        def address_of(k: int) -> int:
            if k in resolved:
                return resolved[k]
            st_name, info, _, shndx, value, _ = entries[k]
            if shndx == SHN_UNDEF:
                if k == 0:
                    address = 0
                else:
                    name = parsed.name(parsed.strtab_at, st_name)
                    address = extra.get(name)
                    if address is None:
                        address = _process_symbol(name) or mpi_provider.address_of(name)
                    if address is None:
                        if info >> 4 != STB_WEAK:
                            raise UnsupportedObject(f"symbol {name} is not in this process")
                        address = 0
            elif shndx == SHN_ABS:
                address = value
            elif shndx in offsets:
                address = base + offsets[shndx] + value
            else:
                raise UnsupportedObject(f"symbol in section {shndx}, which is not loaded")
            resolved[k] = address
            return address

        pack_into = struct.pack_into
        for section, r_offset, kind, sym, addend in relocations:
            where = offsets[section] + r_offset
            value = address_of(sym) + addend
            if kind == R_X86_64_64:
                pack_into("<Q", image, where, value & 0xFFFFFFFFFFFFFFFF)
            elif kind in (R_X86_64_PC32, R_X86_64_PLT32):
                value -= base + where
                if not -(1 << 31) <= value < (1 << 31):
                    raise UnsupportedObject("a 32-bit PC-relative relocation out of range")
                pack_into("<i", image, where, value)
            elif kind == R_X86_64_PC64:
                pack_into("<q", image, where, (value - base - where + (1 << 63)) % (1 << 64) - (1 << 63))
            elif kind == R_X86_64_32 and 0 <= value < (1 << 32):
                pack_into("<I", image, where, value)
            elif kind == R_X86_64_32S and -(1 << 31) <= value < (1 << 31):
                pack_into("<i", image, where, value)
            else:
                raise UnsupportedObject(f"relocation type {kind}")
        ctypes.memmove(base, (ctypes.c_char * total).from_buffer(image), total)
        if readonly and _libc.mprotect(base, readonly, mmap.PROT_READ | mmap.PROT_EXEC) != 0:
            failure = OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
            raise errors.from_os_error(failure, "mprotect of the generated code")
        addresses = [base + offsets[defined[s][0]] + defined[s][1] for s in symbols]
        self.address = addresses[0]
        self.object_address = addresses[1] if len(addresses) > 1 else None

    def _release(self) -> None:
        if self._base is not None and _libc is not None:
            _libc.munmap(self._base, self._size)
            self._base = None

    def close(self) -> None:
        """Unmaps the code now; nothing may call into it afterwards."""
        self._release()

    def __del__(self):
        self._release()


def load_code(obj: bytes, symbols: list[str]):
    """Object code linked into this process (`address`, `object_address`, `obj`), alive while referenced:
    an ElfCode, or where it cannot link the object (or XLITE_CPU_LINKER=llvm) LLVM's JIT linker.
    Raises MalformedObject for bytes that are not a well-formed object defining `symbols`."""
    if supported_host() and os.environ.get("XLITE_CPU_LINKER") != "llvm":
        from xlite.codegen.cpu.blas_provider import symbol_addresses
        from xlite.codegen.cpu.host_callback import symbol_addresses as host_symbols
        from xlite.codegen.cpu.plan import stop_symbols
        try:
            return ElfCode(obj, symbols, {**symbol_addresses(), **stop_symbols(), **host_symbols()})
        except MalformedObject:
            raise
        except UnsupportedObject:
            pass
    elif supported_host():
        check_object(obj, symbols)         # LLVM's linker must never see a malformed object either
    from xlite.codegen.cpu.compiler import JitLoadedCode
    return JitLoadedCode(obj, symbols)


__all__ = ["ElfCode", "UnsupportedObject", "MalformedObject", "check_object", "load_code", "supported_host"]
