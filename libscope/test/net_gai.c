/* net_gai: resolves names with one of the resolver functions the dns tests expect libscope to
 * interpose, so a test can compare the names and addresses libscope reports with these.
 * FUNC: getaddrinfo (AF_UNSPEC, SOCK_STREAM: each address once) | gethostbyname |
 * gethostbyname2 (AF_INET) | gethostbyname_r | gethostbyname2_r (AF_INET).
 * usage: net_gai FUNC NAME...
 * Prints one JSON line per name, in order:
 *   {"func":FUNC,"name":NAME,"addrs":["127.0.0.1",…]}  or, when it fails,
 *   {"func":FUNC,"name":NAME,"addrs":[],"error":"<gai_strerror / hstrerror text>"}
 * Exit 0 even when names fail; 2 on a usage error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "jsonout.h"


static void begin(const char *func, const char *name)
{
    printf("{\"func\":");
    json_str(func);
    printf(",\"name\":");
    json_str(name);
    printf(",\"addrs\":[");
}

static void end(const char *error)
{
    printf("]");
    if (error) {
        printf(",\"error\":");
        json_str(error);
    }
    printf("}\n");
    fflush(stdout);
}

static void hostent_addrs(const struct hostent *h)
{
    char text[INET6_ADDRSTRLEN];
    for (int i = 0; h->h_addr_list[i]; i++) {
        if (!inet_ntop(h->h_addrtype, h->h_addr_list[i], text, sizeof text))
            continue;
        printf("%s", i ? "," : "");
        json_str(text);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: net_gai getaddrinfo|gethostbyname|gethostbyname2|gethostbyname_r|gethostbyname2_r NAME...\n");
        return 2;
    }
    const char *func = argv[1];
    if (strcmp(func, "getaddrinfo") != 0 && strcmp(func, "gethostbyname") != 0 &&
        strcmp(func, "gethostbyname2") != 0 && strcmp(func, "gethostbyname_r") != 0 &&
        strcmp(func, "gethostbyname2_r") != 0) {
        fprintf(stderr, "net_gai: unknown function %s\n", func);
        return 2;
    }
    for (int k = 2; k < argc; k++) {
        const char *name = argv[k];
        begin(func, name);
        if (strcmp(func, "getaddrinfo") == 0) {
            struct addrinfo hints, *res = NULL;
            memset(&hints, 0, sizeof hints);
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            int rc = getaddrinfo(name, NULL, &hints, &res);
            if (rc != 0) {
                end(gai_strerror(rc));
                continue;
            }
            int n = 0;
            for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                char text[INET6_ADDRSTRLEN];
                const void *a = ai->ai_family == AF_INET
                    ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                    : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
                if (!inet_ntop(ai->ai_family, a, text, sizeof text))
                    continue;
                printf("%s", n++ ? "," : "");
                json_str(text);
            }
            freeaddrinfo(res);
            end(NULL);
        } else if (strcmp(func, "gethostbyname") == 0 || strcmp(func, "gethostbyname2") == 0) {
            struct hostent *h = strcmp(func, "gethostbyname") == 0 ? gethostbyname(name)
                                                                   : gethostbyname2(name, AF_INET);
            if (!h) {
                end(hstrerror(h_errno));
                continue;
            }
            hostent_addrs(h);
            end(NULL);
        } else {
            struct hostent he, *h = NULL;
            char buf[8192];
            int herr = 0;
            int rc = strcmp(func, "gethostbyname_r") == 0
                ? gethostbyname_r(name, &he, buf, sizeof buf, &h, &herr)
                : gethostbyname2_r(name, AF_INET, &he, buf, sizeof buf, &h, &herr);
            if (rc != 0 || !h) {
                end(hstrerror(herr ? herr : HOST_NOT_FOUND));
                continue;
            }
            hostent_addrs(h);
            end(NULL);
        }
    }
    return 0;
}
