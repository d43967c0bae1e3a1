/* http.h — HTTP message parsers the reporting thread runs over a connection's bytes: HTTP/1.x
 * (http1.c) and HTTP/2 frames with HPACK (h2.c, hpack.c). Each parser follows one direction of one
 * connection, is fed that direction's bytes in order, and calls back once per message head
 * (request or response line plus headers). The parsers never allocate per byte, never block, and
 * survive any input: garbage, truncation or a gap makes them resynchronise or give up on the
 * connection, never crash. Reporting thread only; no globals. */
#ifndef SCOPE_HTTP_H
#define SCOPE_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scope_str {
    const char *p;   /* not NUL-terminated; valid during the callback only */
    size_t n;
};

struct scope_hdr {
    struct scope_str name, value;
};

#define SCOPE_HTTP_MAX_HDRS 64

struct scope_http_msg {
    bool request;
    int flavor;                 /* 10, 11 (HTTP/1.0, 1.1) or 20 (HTTP/2) */
    uint32_t stream;            /* HTTP/2 stream id; 0 for HTTP/1.x */
    struct scope_str method;    /* requests: GET, POST, … (HTTP/2: :method) */
    struct scope_str target;    /* requests: /x?y (HTTP/2: :path) */
    struct scope_str authority; /* HTTP/2 :authority; empty for 1.x (use the Host header) */
    struct scope_str scheme;    /* HTTP/2 :scheme; empty for 1.x */
    int status;                 /* responses: 200, …; 0 for a request */
    struct scope_str reason;    /* responses: "OK" (HTTP/1.x only; empty for HTTP/2) */
    long long content_length;   /* the Content-Length header; -1 when absent or invalid */
    bool end_stream;            /* HTTP/2: the HEADERS frame ended its stream (no body follows) */
    const struct scope_hdr *hdrs; /* regular headers in wire order (no pseudo-headers) */
    int nhdrs;                  /* at most SCOPE_HTTP_MAX_HDRS; later ones are not given */
};

/* Called once per message head. For HTTP/1.x the return value matters: true means "this message
 * has no body whatever its headers say" (the consumer answers true for the response to a HEAD
 * request); 1xx, 204 and 304 responses are known bodiless without asking. For HTTP/2 it is
 * ignored. */
typedef bool (*scope_http_cb)(void *ctx, const struct scope_http_msg *m);

/* ---- HTTP/1.x, one direction (http1.c) ---- */
#define SCOPE_H1_HEAD_MAX 16384   /* a head longer than this is given up on (resync) */
struct scope_h1 {
    int state;                  /* private */
    long long body_left;        /* private: bytes of body still to skip */
    long long chunk_left;       /* private */
    int chunk_state;            /* private */
    bool response_side;         /* parses responses (else requests) */
    bool upgraded;              /* a 101 or CONNECT 2xx passed: the bytes are no longer HTTP/1
                                 * (set here for a 101 and after a CONNECT request; the consumer,
                                 * which pairs responses with requests, sets it in the callback of
                                 * a 2xx that answers a CONNECT, and parsing stops there) */
    bool all_hdrs;              /* the callback is given every header (scope_h1_init sets it); when
                                 * the consumer clears it, hdrs is empty and only the headers that
                                 * frame the body (Content-Length, Transfer-Encoding) are read */
    size_t len;                 /* private: bytes of head gathered */
    char head[SCOPE_H1_HEAD_MAX];
    struct scope_hdr hdrs[SCOPE_HTTP_MAX_HDRS];
};
void scope_h1_init(struct scope_h1 *p, bool response_side);
/* The next piece of this direction's stream: `n` bytes at `buf` were seen, of `total` ≥ n the
 * app's call moved (the rest was not copied to us). A gap (total > n) in a head loses that head;
 * in a body of known length it is simply skipped. A new message is looked for at the start of
 * the next piece after a loss. */
void scope_h1_feed(struct scope_h1 *p, const unsigned char *buf, size_t n, size_t total,
                   scope_http_cb cb, void *ctx);
/* Does this look like the start of an HTTP/1.x request ("GET / HTTP/1.1"…) or response
 * ("HTTP/1.1 200")? Used to detect the protocol on a connection's first bytes. */
bool scope_h1_is_request(const unsigned char *buf, size_t n);
bool scope_h1_is_response(const unsigned char *buf, size_t n);

/* ---- HTTP/2, one direction (h2.c, hpack.c) ---- */
#define SCOPE_HPACK_TABLE_MAX 65536   /* bytes of dynamic table kept (RFC 7541 size accounting) */
struct scope_hpack {
    /* private: the dynamic table as a ring of entries in one buffer */
    char *buf;
    size_t cap, size, max_size;
    uint32_t *off;              /* entry offsets, newest first */
    uint32_t *nlen, *vlen;
    size_t count, ecap;
};
void scope_hpack_init(struct scope_hpack *h);
void scope_hpack_free(struct scope_hpack *h);
/* Decodes one complete header block. The strings land in `out` (cap bytes) and `hdrs` points into
 * it; returns the number of headers (≤ max), or -1 when the block is malformed (the table is then
 * unusable: the connection is given up). */
int scope_hpack_decode(struct scope_hpack *h, const unsigned char *blk, size_t n,
                       struct scope_hdr *hdrs, int max, char *out, size_t cap);
/* Huffman-decodes `n` bytes into out; returns the length or -1 on an invalid code or padding. */
long scope_hpack_huffman(const unsigned char *in, size_t n, char *out, size_t cap);

#define SCOPE_H2_FRAME_MAX 65536      /* header blocks larger than this are given up on */
struct scope_h2 {
    int state;                  /* private */
    bool broken;                /* gave up (malformed, gap inside a header block): no more calls */
    size_t skip;                /* private: bytes still to skip (preface, frame payload) */
    size_t len;                 /* private: bytes gathered of the current frame header/payload */
    unsigned char hdr[9];       /* private */
    uint32_t blk_stream;        /* private: the stream of a header block awaiting CONTINUATION */
    uint8_t blk_flags;
    size_t blk_len;
    unsigned char *blk;         /* private: header block being gathered (malloc, ≤ FRAME_MAX) */
    size_t blk_cap;
    bool preface_seen;          /* private */
    bool client_side;           /* private: as given to scope_h2_init */
    struct scope_hpack hpack;
    struct scope_hdr hdrs[SCOPE_HTTP_MAX_HDRS];
    char *strings;              /* private: decoded header strings */
    size_t strings_cap;
};
/* client_side: this direction carries requests (and starts with the 24-byte client preface,
 * which is skipped when present). */
void scope_h2_init(struct scope_h2 *p, bool client_side);
void scope_h2_free(struct scope_h2 *p);
/* As scope_h1_feed. A gap inside a DATA (or other non-header) payload is skipped; a gap inside a
 * HEADERS/CONTINUATION block breaks the connection's HPACK state for good (broken = true). */
void scope_h2_feed(struct scope_h2 *p, const unsigned char *buf, size_t n, size_t total,
                   scope_http_cb cb, void *ctx);
/* The 24 bytes every HTTP/2 client connection begins with. */
bool scope_h2_is_preface(const unsigned char *buf, size_t n);
#endif
