/* de_engine.h — the discrete-event engine: a clock and a queue of timestamped events.
 *
 * Events are ordered by (time, sequence number): ties run in the order they were
 * scheduled, so the same inputs and seeds give the same run, byte for byte.
 * An event is a handler type (registered once) plus two payload words; the queue
 * is an implicit 4-ary heap of 32-byte entries, so memory is proportional to the
 * number of pending events. Cancellation is lazy: a cancelled event stays in the
 * heap until it reaches the top and is then dropped.
 *
 *   de_engine *e = de_engine_create();
 *   int t = de_engine_register(e, on_arrival, model);
 *   de_engine_schedule(e, 1.5, t, lp, 0);
 *   de_engine_run(e, end);           // events with time < end
 *   de_engine_destroy(e); */
#ifndef DE_ENGINE_H
#define DE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct de_engine de_engine;

/* A handler: called at the event's time with its two payload words. It may
 * schedule and cancel events and call de_engine_stop. */
typedef void (*de_event_fn)(de_engine *e, void *ctx, uint32_t a, uint64_t b);

de_engine *de_engine_create(void);
void de_engine_destroy(de_engine *e);   /* NULL is a no-op */

/* Registers a handler; returns its type (0, 1, ...). */
int de_engine_register(de_engine *e, de_event_fn fn, void *ctx);

/* Schedules an event of `type` at `time` (>= now; earlier times are clamped to
 * now). Returns its id (unique, increasing), usable with de_engine_cancel. */
uint64_t de_engine_schedule(de_engine *e, double time, int type, uint32_t a, uint64_t b);

/* Cancels a pending event; returns 1 if it was pending, 0 if it already ran, was
 * cancelled or never existed. */
int de_engine_cancel(de_engine *e, uint64_t id);

/* Runs events with time < until (in order) until none is left, a handler calls
 * de_engine_stop, or the next one is at or past `until`; unless stopped, the
 * clock then reads `until` when it is finite (else the last event's time).
 * Returns the number of events processed in this call. */
uint64_t de_engine_run(de_engine *e, double until);

/* Makes the current de_engine_run return after the running handler. */
void de_engine_stop(de_engine *e);

double de_engine_now(const de_engine *e);
size_t de_engine_pending(const de_engine *e);   /* including cancelled, not yet dropped */
uint64_t de_engine_processed(const de_engine *e);   /* total over all runs */
/* Bytes held by the queue (for memory reports). */
size_t de_engine_bytes(const de_engine *e);

#endif
