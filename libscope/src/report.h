/* report.h — the reporting thread and the synchronous flushes (exec, exit). */
#ifndef SCOPE_REPORT_H
#define SCOPE_REPORT_H
#include <stdbool.h>
void scope_report_open(const char *event_url, const char *metric_url);
bool scope_report_start(void);
void scope_report_child_reset(void);
void scope_report_flush(bool final, int timeout_ms);
#endif
