/* log.h — libscope's own diagnostics (SCOPE_LOG_DEST / SCOPE_LOG_LEVEL). */
#ifndef SCOPE_LOG_H
#define SCOPE_LOG_H
#include <stdbool.h>
enum scope_log_level { SCOPE_LOG_NONE, SCOPE_LOG_ERROR, SCOPE_LOG_WARNING, SCOPE_LOG_INFO,
                       SCOPE_LOG_DEBUG };
void scope_log_open(const char *url, int level);
void scope_log_reinit(void);
/* Reporting thread (its descriptor table keeps the log's descriptor): another URL or level, the
 * log closed at a detach, a retry of a log file that could not be opened, a copy for the status. */
void scope_log_reopen(const char *url, int level);
void scope_log_close(void);
void scope_log_tick(void);
/* Exit (report.c): scope_dest_last_chance, scope_dest_pump and scope_dest_final for the log. */
void scope_log_last_chance(void);
void scope_log_end_over(void);
bool scope_log_pump(bool final);
void scope_log_final(void);
struct scope_dest;
void scope_log_dest(struct scope_dest *copy);
/* scope_dest_lend / adopt / unlend for the log destination. */
struct scope_dest;
const struct scope_dest *scope_log_file_dest(void);
void scope_log_lend(void);
int scope_log_adopt(void);
void scope_log_unlend(void);
/* scope_dest_give for the log destination (reporting thread, after a handover). */
void scope_log_give(int fd, const char *why);
void scope_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int scope_log_level_parse(const char *s);
#endif
