/* reporting.h — what the parts of the reporting thread share (report.c: the thread and the
 * requests the app's threads make of it; reportout.c: the lines made and written, the notices;
 * reportexit.c: the exit's flush and its accounting; reportfds.c: the thread's own descriptor
 * table). Private to them. */
#ifndef SCOPE_REPORTING_H
#define SCOPE_REPORTING_H
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dest/dest.h"
#include "util/json.h"

enum { REQ_FLUSH = 1, REQ_FINAL = 2, REQ_CALL = 4 };
extern _Atomic int scope_rep_req;      /* the REQ_ bits asked for and not yet taken (report.c) */
extern _Atomic int scope_rep_detached; /* nothing is reported until a reattach */
extern _Atomic int scope_rep_finished; /* the final report is done */
/* posted by the reporting thread once its table is settled */
extern sem_t scope_rep_table_ready;
extern _Atomic int scope_rep_own_table;
uint64_t scope_rep_mono_ms(void);

/* reportout.c: the destinations, what is formatted for them and not yet written, lines counted */
extern struct scope_dest scope_rep_ev_dest, scope_rep_met_dest;
extern struct sbuf scope_rep_ev_out, scope_rep_met_out;
extern size_t scope_rep_ev_lines, scope_rep_met_lines;
extern uint64_t scope_rep_drops_told, scope_rep_drops_told_ns;
/* lines delivered, whatever the destination was */
extern uint64_t scope_rep_ev_total, scope_rep_met_total;
void scope_rep_write_out(void);
void scope_rep_drain_text(bool all);
void scope_rep_drain(void);
void scope_rep_drops(bool final);
void scope_rep_metrics(bool start);
uint64_t scope_rep_discard(void);
void scope_rep_start_record(void);
void scope_rep_came_up(void);

/* reportexit.c */
extern uint64_t scope_rep_drain_until;
extern uint64_t scope_rep_exit_wait_ms;
void scope_rep_settle_net(void);
void scope_rep_unsent_at_exec(const struct scope_dest *d);
void scope_rep_final_report(void);

/* reportfds.c */
void scope_rep_own_fd_table(void);
void scope_rep_handover(void);
#endif
