/* watchdog.h — finding hung instances: a request past request_timeout, a
 * request nobody serves, a missed heartbeat, an instance that is stopped or
 * not ready within start_timeout. One timerfd per service ticks at a
 * quarter of the shortest of those bounds; a hang is answered like a crash
 * (service_abort kills the instance, the culprit request is blamed), and
 * the supervisor takes it from the death on. */
#ifndef RV_WATCHDOG_H
#define RV_WATCHDOG_H

struct service;

/* Starts ticking for svc; -1 with errno. */
int watchdog_start(struct service *svc);
void watchdog_stop(struct service *svc);

#endif
