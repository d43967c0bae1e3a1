// elfsym.cc — a 64-bit ELF file read the way the dynamic loader reads it: program headers, and a
// dynamic symbol found through PT_DYNAMIC and its hash table. Section headers are never needed:
// a stripped library may have none, and the loader does not use them either.
#include "inject.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace scope_inject {
namespace {

bool ReadAt(int fd, void* buf, size_t n, uint64_t off) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(fd, static_cast<char*>(buf) + done, n - done, static_cast<off_t>(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

#if defined(__x86_64__)
constexpr uint16_t kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kMachine = EM_AARCH64;
#else
constexpr uint16_t kMachine = EM_NONE;
#endif

std::string MachineName(unsigned machine) {
  switch (machine) {
    case EM_X86_64: return "x86-64";
    case EM_386: return "i386";
    case EM_AARCH64: return "aarch64";
    case EM_ARM: return "arm";
    default: return "machine " + std::to_string(machine);
  }
}

// The dynamic tables, their file offsets found through the PT_LOAD that maps their addresses.
struct Dyn {
  uint64_t strtab = 0, strsz = 0, symtab = 0, gnuhash = 0, hash = 0, versym = 0;
  bool hasVersym = false;
};

bool VaddrToOffset(const ElfImage& img, uint64_t vaddr, uint64_t* off) {
  for (const Elf64_Phdr& p : img.ph) {
    if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_filesz) {
      *off = vaddr - p.p_vaddr + p.p_offset;
      return true;
    }
  }
  return false;
}

bool ReadDynamic(const ElfImage& img, Dyn* d, std::string* err) {
  const Elf64_Phdr* dyn = nullptr;
  for (const Elf64_Phdr& p : img.ph)
    if (p.p_type == PT_DYNAMIC) dyn = &p;
  if (!dyn) {
    *err = "no PT_DYNAMIC";
    return false;
  }
  if (dyn->p_filesz > (1u << 20) || dyn->p_offset + dyn->p_filesz > img.size) {
    *err = "PT_DYNAMIC out of the file";
    return false;
  }
  std::vector<Elf64_Dyn> ents(dyn->p_filesz / sizeof(Elf64_Dyn));
  if (!ents.empty() && !ReadAt(img.fd, ents.data(), ents.size() * sizeof(Elf64_Dyn), dyn->p_offset)) {
    *err = "PT_DYNAMIC unreadable";
    return false;
  }
  uint64_t strtab = 0, symtab = 0, gnuhash = 0, hash = 0, versym = 0;
  for (const Elf64_Dyn& e : ents) {
    if (e.d_tag == DT_NULL) break;
    switch (e.d_tag) {
      case DT_STRTAB: strtab = e.d_un.d_ptr; break;
      case DT_STRSZ: d->strsz = e.d_un.d_val; break;
      case DT_SYMTAB: symtab = e.d_un.d_ptr; break;
      case DT_GNU_HASH: gnuhash = e.d_un.d_ptr; break;
      case DT_HASH: hash = e.d_un.d_ptr; break;
      case DT_VERSYM: versym = e.d_un.d_ptr; break;
      default: break;
    }
  }
  if (!strtab || !symtab || !VaddrToOffset(img, strtab, &d->strtab) || !VaddrToOffset(img, symtab, &d->symtab)) {
    *err = "no dynamic symbol table";
    return false;
  }
  if (gnuhash && !VaddrToOffset(img, gnuhash, &d->gnuhash)) d->gnuhash = 0;
  if (hash && !VaddrToOffset(img, hash, &d->hash)) d->hash = 0;
  if (!d->gnuhash && !d->hash) {
    *err = "neither DT_GNU_HASH nor DT_HASH";
    return false;
  }
  d->hasVersym = versym && VaddrToOffset(img, versym, &d->versym);
  return true;
}

// Symbol i if it is a defined function named `name`: 2 for the default version, 1 for a hidden
// (compat) one, 0 otherwise.
int Match(const ElfImage& img, const Dyn& d, uint32_t i, const std::string& name, uint64_t* value) {
  Elf64_Sym s;
  if (!ReadAt(img.fd, &s, sizeof s, d.symtab + uint64_t{i} * sizeof s)) return 0;
  if (s.st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s.st_info) != STT_FUNC) return 0;
  if (s.st_name >= d.strsz || d.strsz - s.st_name < name.size() + 1) return 0;
  std::string got(name.size() + 1, '\0');
  if (!ReadAt(img.fd, got.data(), got.size(), d.strtab + s.st_name)) return 0;
  if (std::memcmp(got.data(), name.c_str(), name.size() + 1) != 0) return 0;
  *value = s.st_value;
  uint16_t ver = 0;
  if (d.hasVersym && ReadAt(img.fd, &ver, sizeof ver, d.versym + uint64_t{i} * 2) && (ver & 0x8000)) return 1;
  return 2;
}

// The candidates on one hash chain: the default version wins, a hidden one is kept as a fallback.
struct Best {
  int rank = 0;
  uint64_t value = 0;
  void Offer(const ElfImage& img, const Dyn& d, uint32_t i, const std::string& name) {
    uint64_t v = 0;
    const int r = Match(img, d, i, name, &v);
    if (r > rank) rank = r, value = v;
  }
};

bool GnuLookup(const ElfImage& img, const Dyn& d, const std::string& name, Best* best) {
  uint32_t hdr[4];  // nbuckets, symoffset, bloom words, bloom shift
  if (!ReadAt(img.fd, hdr, sizeof hdr, d.gnuhash)) return false;
  const uint32_t nbuckets = hdr[0], symoffset = hdr[1], nbloom = hdr[2], shift = hdr[3];
  if (nbuckets == 0 || nbloom == 0 || nbuckets > (1u << 24) || nbloom > (1u << 24)) return false;
  uint32_t h = 5381;
  for (unsigned char c : name) h = h * 33 + c;
  const uint64_t bloomAt = d.gnuhash + sizeof hdr;
  uint64_t word = 0;
  if (!ReadAt(img.fd, &word, sizeof word, bloomAt + 8ull * ((h / 64) % nbloom))) return false;
  const uint64_t mask = (1ull << (h % 64)) | (1ull << ((h >> shift) % 64));
  if ((word & mask) != mask) return true;  // certainly absent
  const uint64_t bucketsAt = bloomAt + 8ull * nbloom;
  const uint64_t chainAt = bucketsAt + 4ull * nbuckets;
  uint32_t i = 0;
  if (!ReadAt(img.fd, &i, sizeof i, bucketsAt + 4ull * (h % nbuckets))) return false;
  if (i < symoffset) return true;
  for (uint32_t guard = 0; guard < (1u << 24); ++guard, ++i) {
    uint32_t ch = 0;
    if (!ReadAt(img.fd, &ch, sizeof ch, chainAt + 4ull * (i - symoffset))) return false;
    if ((ch | 1) == (h | 1)) best->Offer(img, d, i, name);
    if (ch & 1) break;
  }
  return true;
}

bool SysvLookup(const ElfImage& img, const Dyn& d, const std::string& name, Best* best) {
  uint32_t hdr[2];  // nbucket, nchain
  if (!ReadAt(img.fd, hdr, sizeof hdr, d.hash)) return false;
  const uint32_t nbucket = hdr[0], nchain = hdr[1];
  if (nbucket == 0 || nbucket > (1u << 24) || nchain > (1u << 24)) return false;
  uint32_t h = 0;
  for (unsigned char c : name) {
    h = (h << 4) + c;
    uint32_t g = h & 0xf0000000u;
    if (g) h ^= g >> 24;
    h &= ~g;
  }
  uint32_t i = 0;
  if (!ReadAt(img.fd, &i, sizeof i, d.hash + 8 + 4ull * (h % nbucket))) return false;
  for (uint32_t guard = 0; i != STN_UNDEF && i < nchain && guard < nchain; ++guard) {
    best->Offer(img, d, i, name);
    if (!ReadAt(img.fd, &i, sizeof i, d.hash + 8 + 4ull * nbucket + 4ull * i)) return false;
  }
  return true;
}

}  // namespace

Status ElfOpen(int fd, const std::string& what, ElfImage* out) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Fail("ERROR", what + ": " + ErrnoText(errno));
  out->fd = fd;
  out->size = static_cast<uint64_t>(st.st_size);
  unsigned char* id = out->eh.e_ident;
  if (!ReadAt(fd, &out->eh, sizeof out->eh, 0) || std::memcmp(id, ELFMAG, SELFMAG) != 0)
    return Fail("ERROR", what + ": not an ELF file");
  if (id[EI_CLASS] != ELFCLASS64 || out->eh.e_machine != kMachine)
    return Fail("ARCH", what + " is a " + (id[EI_CLASS] == ELFCLASS32 ? "32" : "64") + "-bit " +
                            MachineName(out->eh.e_machine) + " ELF; only 64-bit " + MachineName(kMachine) +
                            " processes (this machine's own) can be injected");
  // A sane object has a handful of program headers; a huge count is a corrupt or hostile file.
  if (out->eh.e_phentsize != sizeof(Elf64_Phdr) || out->eh.e_phnum > 4096)
    return Fail("ERROR", what + ": unexpected program header table");
  out->ph.resize(out->eh.e_phnum);
  if (!out->ph.empty() && !ReadAt(fd, out->ph.data(), out->ph.size() * sizeof(Elf64_Phdr), out->eh.e_phoff))
    return Fail("ERROR", what + ": truncated program header table");
  return Ok();
}

bool ElfHasInterp(const ElfImage& img) {
  for (const Elf64_Phdr& p : img.ph)
    if (p.p_type == PT_INTERP) return true;
  return false;
}

uint64_t ElfFirstLoad(const ElfImage& img) {
  uint64_t lo = UINT64_MAX;
  for (const Elf64_Phdr& p : img.ph)
    if (p.p_type == PT_LOAD && p.p_vaddr < lo) lo = p.p_vaddr;
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return lo == UINT64_MAX ? 0 : lo & ~(page - 1);
}

bool ElfLookup(const ElfImage& img, const std::string& name, uint64_t* value, std::string* err) {
  Dyn d;
  if (!ReadDynamic(img, &d, err)) return false;
  Best best;
  bool read = d.gnuhash ? GnuLookup(img, d, name, &best) : SysvLookup(img, d, name, &best);
  if (!read) {
    *err = "unreadable hash table";
    return false;
  }
  if (best.rank == 0) return false;
  *value = best.value;
  return true;
}

}  // namespace scope_inject
