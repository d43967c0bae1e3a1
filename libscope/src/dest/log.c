/* log.c — libscope's own diagnostics, one line each:
 *   2025-11-23T09:24:00.123456Z scope[4242] warning: message
 * Never called on the hot path; callers are init, the reporting thread and the exit flush. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dest/dest.h"
#include "dest/log.h"
#include "scope.h"

static struct scope_dest log_dest = {.fd = -1};
static int log_level = SCOPE_LOG_WARNING;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int in_log __attribute__((tls_model("initial-exec")));

static const char *const level_names[] = {"none", "error", "warning", "info", "debug"};

int scope_log_level_parse(const char *s)
{
    for (int i = 0; i <= SCOPE_LOG_DEBUG; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "warn") == 0)
        return SCOPE_LOG_WARNING;
    return -1;
}

void scope_log_open(const char *url, int level)
{
    log_level = level;
    scope_dest_open(&log_dest, url, "log");
}

const struct scope_dest *scope_log_file_dest(void) { return &log_dest; }
void scope_log_lend(void) { scope_dest_lend(&log_dest); }
int scope_log_adopt(void) { return scope_dest_adopt(&log_dest); }
void scope_log_unlend(void) { scope_dest_unlend(&log_dest); }

void scope_log_give(int fd, const char *why)
{
    pthread_mutex_lock(&log_lock);
    in_log = 1;
    scope_dest_give(&log_dest, fd, why);
    in_log = 0;
    pthread_mutex_unlock(&log_lock);
}

void scope_log_reopen(const char *url, int level)
{
    pthread_mutex_lock(&log_lock);
    in_log = 1;   /* a network log's last send may lose its connection and say so: not to itself */
    log_level = level;
    if (!scope_dest_on(&log_dest) || !url || strcmp(url, log_dest.url) != 0) {
        scope_dest_close(&log_dest);
        scope_dest_open(&log_dest, url, "log");
    }
    in_log = 0;
    pthread_mutex_unlock(&log_lock);
}

void scope_log_close(void)
{
    pthread_mutex_lock(&log_lock);
    in_log = 1;
    scope_dest_close(&log_dest);
    in_log = 0;
    pthread_mutex_unlock(&log_lock);
}

/* The reporting thread's turn with the log destination. in_log: what the destination code would
 * log about the log itself, with the lock held, is not written (it would wait for this lock). */
void scope_log_tick(void)
{
    pthread_mutex_lock(&log_lock);
    in_log = 1;
    scope_dest_tick(&log_dest);
    scope_dest_pump(&log_dest, false);
    in_log = 0;
    pthread_mutex_unlock(&log_lock);
}

bool scope_log_pump(bool final)
{
    pthread_mutex_lock(&log_lock);
    in_log = 1;
    scope_dest_tick(&log_dest);
    bool more = scope_dest_pump(&log_dest, final);
    in_log = 0;
    pthread_mutex_unlock(&log_lock);
    return more;
}

void scope_log_last_chance(void)
{
    pthread_mutex_lock(&log_lock);
    scope_dest_last_chance(&log_dest);
    pthread_mutex_unlock(&log_lock);
}

void scope_log_end_over(void)
{
    pthread_mutex_lock(&log_lock);
    scope_dest_end_over(&log_dest);
    pthread_mutex_unlock(&log_lock);
}

/* At exit: one last send without waiting, then what is left counts as dropped. Said about the
 * log itself, into the log, it would be one more line nobody gets: not said. */
void scope_log_final(void)
{
    pthread_mutex_lock(&log_lock);
    in_log = 1;
    scope_dest_pump(&log_dest, false);
    scope_dest_final(&log_dest);
    in_log = 0;
    pthread_mutex_unlock(&log_lock);
}

void scope_log_dest(struct scope_dest *copy)
{
    pthread_mutex_lock(&log_lock);
    *copy = log_dest;
    pthread_mutex_unlock(&log_lock);
}

/* A forked child may have been cut off while another thread held the lock. */
void scope_log_reinit(void)
{
    pthread_mutex_init(&log_lock, NULL);
    scope_dest_child(&log_dest);
}

void scope_log(int level, const char *fmt, ...)
{
    if (level > log_level || level <= SCOPE_LOG_NONE || !scope_dest_on(&log_dest) || in_log)
        return;
    int saved_errno = errno, saved_guard = scope_guard;
    scope_guard = 1;
    in_log = 1;
    char line[1024];
    struct timespec ts;
    struct tm tm;
    scope_clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ scope[%d] %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000, (int)getpid(), level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    for (size_t i = (size_t)n; i < len; i++)   /* one record per line, whatever the message */
        if (line[i] == '\n')
            line[i] = ' ';
    line[len++] = '\n';
    pthread_mutex_lock(&log_lock);
    scope_dest_write(&log_dest, line, len, 1);
    pthread_mutex_unlock(&log_lock);
    in_log = 0;
    scope_guard = saved_guard;
    errno = saved_errno;
}
