/* net_gnutls — an HTTPS GET through GnuTLS, for the test that libscope sees the plaintext of
 * gnutls_record_send/recv. `net_gnutls PORT PATH`: connects to 127.0.0.1:PORT, handshakes without
 * verifying the (self-signed) certificate, sends one HTTP/1.1 request, reads the response to the
 * end and prints {"sent":N,"recv":M,"status":"HTTP/1.1 200 OK"}. Linked against the system's
 * libgnutls.so.30 (no development headers needed: the few prototypes are declared here), so its
 * calls go through the PLT, where an LD_PRELOADed library interposes them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

typedef void *gnutls_session_t;
typedef void *gnutls_certificate_credentials_t;
int gnutls_global_init(void);
int gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t *res);
int gnutls_init(gnutls_session_t *session, unsigned int flags);
int gnutls_set_default_priority(gnutls_session_t session);
int gnutls_credentials_set(gnutls_session_t session, int type, void *cred);
void gnutls_transport_set_int2(gnutls_session_t session, int r, int s);
int gnutls_handshake(gnutls_session_t session);
int gnutls_error_is_fatal(int error);
const char *gnutls_strerror(int error);
ssize_t gnutls_record_send(gnutls_session_t session, const void *data, size_t size);
ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t size);
int gnutls_bye(gnutls_session_t session, int how);
void gnutls_deinit(gnutls_session_t session);
#define GNUTLS_CLIENT (1 << 1)
#define GNUTLS_CRD_CERTIFICATE 1
#define GNUTLS_SHUT_RDWR 0

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: net_gnutls PORT PATH\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("connect");
        return 1;
    }
    gnutls_global_init();
    gnutls_certificate_credentials_t cred;
    gnutls_session_t s;
    gnutls_certificate_allocate_credentials(&cred);
    gnutls_init(&s, GNUTLS_CLIENT);
    gnutls_set_default_priority(s);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_transport_set_int2(s, fd, fd);
    int r;
    do
        r = gnutls_handshake(s);
    while (r < 0 && !gnutls_error_is_fatal(r));
    if (r < 0) {
        fprintf(stderr, "handshake: %s\n", gnutls_strerror(r));
        return 1;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost:%s\r\nUser-Agent: net_gnutls\r\nConnection: close\r\n\r\n",
                     argv[2], argv[1]);
    ssize_t sent = gnutls_record_send(s, req, (size_t)n);
    char buf[16384], status[64] = "";
    size_t total = 0;
    for (;;) {
        ssize_t got = gnutls_record_recv(s, buf, sizeof buf);
        if (got < 0 && !gnutls_error_is_fatal((int)got))
            continue;   /* interrupted, again, or a post-handshake message */
        if (got < 0 && total == 0)
            fprintf(stderr, "recv: %s\n", gnutls_strerror((int)got));
        if (got <= 0)
            break;
        if (!total) {
            size_t k = strcspn(buf, "\r\n");
            snprintf(status, sizeof status, "%.*s", (int)(k < sizeof status - 1 ? k : sizeof status - 1), buf);
        }
        total += (size_t)got;
    }
    gnutls_bye(s, GNUTLS_SHUT_RDWR);
    close(fd);
    gnutls_deinit(s);
    printf("{\"sent\":%zd,\"recv\":%zu,\"status\":\"%s\"}\n", sent, total, status);
    return total ? 0 : 1;
}
