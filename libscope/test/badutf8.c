/* badutf8: writes text with invalid UTF-8 and control bytes to stdout, one write() each, and a
 * line longer than a libscope record with multi-byte characters across the split points. */
#include <string.h>
#include <unistd.h>

int main(void)
{
    static const char *const parts[] = {
        "bad \xff\xfe bytes\n",
        "truncated \xe2\x82 euro and \xc3\x28 pair\n",
        "surrogate \xed\xa0\x80 overlong \xc0\xaf nul-free ctl \x01\x1b[0m quote \" back \\\n",
        "good \xe2\x82\xac \xf0\x9f\x98\x80 done\n",
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (write(1, parts[i], strlen(parts[i])) < 0)
            return 1;
    char big[3000];
    size_t n = 0;
    while (n + 3 < sizeof big - 1) {   /* "é€" repeated: 2- and 3-byte characters */
        memcpy(big + n, n % 5 ? "\xc3\xa9" : "\xe2\x82\xac", n % 5 ? 2 : 3);
        n += n % 5 ? 2 : 3;
    }
    big[n++] = '\n';
    return write(1, big, n) == (ssize_t)n ? 0 : 1;
}
