/* report.h — the reporting thread and the synchronous flushes (exec, exit). */
#ifndef SCOPE_REPORT_H
#define SCOPE_REPORT_H
#include <stdbool.h>
#include <stdint.h>
void scope_report_open(const char *event_url, const char *metric_url);
/* Proxy reporting (interpose/proxy.c): no control socket, the helper is no process of the app's. */
void scope_report_no_control(void);
bool scope_report_start(void);
void scope_report_child_reset(void);
void scope_report_flush(bool final, int timeout_ms);
/* The reporting thread's tid (0 before it runs). */
pid_t scope_report_tid(void);
/* Runs fn(arg) on the reporting thread and waits for it (bounded); false when it did not run
 * (no thread, or it did not answer in time). */
bool scope_report_call(void (*fn)(void *), void *arg, int timeout_ms);
/* Reporting thread only: stat of the app's descriptor fd, through /proc/self/fd (reportfds.c). */
struct stat;
int scope_rep_fd_stat(int fd, struct stat *st);
extern int scope_rep_procfd;   /* that directory in the thread's own table, or -1 */
/* Reporting thread only (control requests, ctl.c), with the control lock held: */
struct scope_dest;
const struct scope_dest *scope_report_dest(bool metric);
bool scope_report_detached(void);
/* Event and metric lines delivered since the process started. */
void scope_report_lines(uint64_t *events, uint64_t *metrics);
/* After a config change: destinations whose URL changed are closed and opened anew (a new event
 * destination starts with a process-start record); the summary period is taken again. */
void scope_report_reconfigure(const char *event_url, const char *metric_url);
/* Writes what is pending and a last summary, closes the destinations, then reports nothing. */
void scope_report_detach(void);
/* Reporting again, to these destinations, from a clean slate and a new process-start record. */
void scope_report_resume(const char *event_url, const char *metric_url);
#endif
