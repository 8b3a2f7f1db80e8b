/*
 * Cron expressions for the schedule plugin: the five standard fields
 * (minute hour day-of-month month day-of-week) with lists, ranges, steps,
 * month and weekday names, 7 as Sunday, and the @hourly ... @yearly macros;
 * and the next time one fires in a time zone, daylight saving included.
 */
#ifndef SB_SCHEDULE_CRON_H
#define SB_SCHEDULE_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tz.h"

/* A parsed expression: one bit per allowed value. */
struct cron_spec {
    uint64_t minute; /* bits 0-59 */
    uint32_t hour;   /* bits 0-23 */
    uint32_t mday;   /* bits 1-31 */
    uint32_t month;  /* bits 1-12 */
    uint32_t wday;   /* bits 0-6, Sunday = 0 (7 is folded into 0) */
    /* The field began with '*' ("*", "*\/2"). As in Vixie cron, when both
     * day fields are restricted (neither starts with '*'), a day matches if
     * EITHER matches; otherwise both must. */
    bool mday_star;
    bool wday_star;
};

/*
 * Parse `text` (borrowed). Returns 0 and fills *out, or -1 with a message
 * naming the field in err: "minute: '61' is out of range 0-59".
 */
int cron_parse(const char *text, struct cron_spec *out, char *err, size_t errlen);

/* Whether day d of month m, a weekday wd (0 = Sunday), matches the day
 * fields and the month. */
bool cron_day_matches(const struct cron_spec *spec, int m, int d, int wd);

/*
 * The first minute at or after `local` (local seconds, see tz.h; rounded
 * up to a whole minute) that matches, by skipping whole months, days and
 * hours that cannot. Returns 0 with *out, or -1 when nothing matches in
 * the next 400 years (a full Gregorian cycle: 0 0 31 2 * never fires).
 */
int cron_next_local(const struct cron_spec *spec, int64_t local, int64_t *out);

/*
 * The first instant strictly after `after` (Unix seconds) at which the
 * wall clock of zone z matches spec. Daylight saving as cron users expect:
 * a matching local time that does not exist (clocks spring forward) fires
 * once, at the end of the gap (the transition instant); one that occurs
 * twice (clocks fall back) fires once, at its first occurrence. Returns 0
 * with *out, or -1 when it never fires again.
 */
int cron_next_fire(const struct cron_spec *spec, const struct tz_zone *z, int64_t after,
                   int64_t *out);

#endif
