/* log.h — libscope's own diagnostics (SCOPE_LOG_DEST / SCOPE_LOG_LEVEL). */
#ifndef SCOPE_LOG_H
#define SCOPE_LOG_H
enum scope_log_level { SCOPE_LOG_NONE, SCOPE_LOG_ERROR, SCOPE_LOG_WARNING, SCOPE_LOG_INFO,
                       SCOPE_LOG_DEBUG };
void scope_log_open(const char *url, int level);
void scope_log_reinit(void);
/* scope_dest_lend / adopt / unlend for the log destination. */
void scope_log_lend(void);
int scope_log_adopt(void);
void scope_log_unlend(void);
void scope_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int scope_log_level_parse(const char *s);
void scope_log_missing(void);
#endif
