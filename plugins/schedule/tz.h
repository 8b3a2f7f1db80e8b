/*
 * Time zones for the schedule plugin, read from the system's TZif files
 * (RFC 8536) without touching the process-wide TZ or localtime: the engine
 * is multi-threaded and those are global.
 *
 * Times are int64 seconds. "Local seconds" are a wall-clock date and time
 * counted as if it were UTC (2026-03-08 02:30 local is the Unix time of
 * 2026-03-08T02:30:00Z), which makes calendar arithmetic on local time plain
 * arithmetic.
 *
 * A loaded zone is immutable and may be shared by threads.
 */
#ifndef SB_SCHEDULE_TZ_H
#define SB_SCHEDULE_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz_zone;

/* The longest abbreviation kept, NUL included ("CEST", "+0545", "-03"). */
#define TZ_ABBR_SIZE 16
/* At most this many UTC instants share one local time (2 in practice). */
#define TZ_LOCAL_MAX 4

/* What a zone says about one instant. */
struct tz_info {
    int32_t offset; /* seconds east of UTC: +3600 for CET, -18000 for EST */
    bool isdst;
    char abbr[TZ_ABBR_SIZE];
};

/*
 * Load the IANA zone `name` ("Europe/Berlin") from $TZDIR or, when that is
 * unset or empty, /usr/share/zoneinfo. "UTC" and "Etc/UTC" are built in and
 * need no file. The name is checked first: letters, digits, '_', '-', '+'
 * and '/' between non-empty components, no "." or ".." component, no
 * leading '/'. On success *out is the zone (caller owns: tz_zone_free);
 * on failure returns -1 with a message in err ("unknown time zone ...").
 * Thread-safe (reads the environment, never changes it).
 */
int tz_zone_load(const char *name, struct tz_zone **out, char *err, size_t errlen);

/* Parse TZif bytes (borrowed) as the zone `name`. Same contract. */
int tz_zone_from_tzif(const unsigned char *data, size_t len, const char *name, struct tz_zone **out,
                      char *err, size_t errlen);

/* A zone made of a POSIX TZ string alone ("CET-1CEST,M3.5.0,M10.5.0/3",
 * "<-03>3", with the RFC 8536 extensions). Same contract. */
int tz_zone_from_posix(const char *spec, struct tz_zone **out, char *err, size_t errlen);

/* Accepts NULL. */
void tz_zone_free(struct tz_zone *z);

/* The name the zone was loaded as (borrowed from the zone). */
const char *tz_zone_name(const struct tz_zone *z);

/* Offset, DST flag and abbreviation in effect at the instant `utc`. */
void tz_lookup(const struct tz_zone *z, int64_t utc, struct tz_info *out);

/*
 * The UTC instants whose wall-clock time in zone z is `local` (local
 * seconds), ascending, into out[TZ_LOCAL_MAX]; returns how many: 1
 * normally, 2 when clocks were set back (the repeated hour), 0 when the
 * local time was skipped (the gap when clocks spring forward). For 0,
 * *gap_end (may be NULL) is the instant the gap ends: the transition,
 * which is the first instant after it.
 */
int tz_local_to_utc(const struct tz_zone *z, int64_t local, int64_t out[TZ_LOCAL_MAX],
                    int64_t *gap_end);

/* --- calendar helpers (proleptic Gregorian, any int64 day) --------------- */

/* Days since 1970-01-01 of y-m-d (m 1-12, d 1-31). */
int64_t tz_days_from_civil(int64_t y, int m, int d);
/* The date of a day number. */
void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* 0 = Sunday ... 6 = Saturday. */
int tz_weekday(int64_t days);
bool tz_is_leap(int64_t y);
int tz_days_in_month(int64_t y, int m);
/* Floor division for negative times. */
int64_t tz_floor_div(int64_t a, int64_t b);

/*
 * ISO 8601 of the instant `utc_ms` shown at `offset` seconds east:
 * "2026-03-08T03:00:00-04:00", or with zulu "2026-03-08T07:00:00Z" (offset
 * ignored). Milliseconds are written only when not zero (".250"); an
 * offset with seconds is written +hh:mm:ss. Returns 0, or -1 when out is
 * too small (64 bytes always suffice).
 */
int tz_format_iso(int64_t utc_ms, int32_t offset, bool zulu, char *out, size_t len);

#endif
