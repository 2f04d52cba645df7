/* service.c — the service records; see service.h. */
#include "service.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "list.h"
#include "log.h"
#include "session.h"

static struct service *services;
static size_t nservices;

static const char *const state_names[] = {
    [SVC_STARTING] = "starting", [SVC_READY] = "ready", [SVC_RECOVERING] = "recovering",
    [SVC_FAILED] = "failed", [SVC_STOPPED] = "stopped",
};

const char *service_state_name(enum svc_state state) { return state_names[state]; }

int services_create(const struct rv_manifest *m)
{
    services = calloc(m->nservices ? m->nservices : 1, sizeof *services);
    if (!services)
        return -1;
    nservices = m->nservices;
    for (size_t i = 0; i < nservices; i++) {
        const struct rv_service_conf *c = &m->services[i];
        services[i] = (struct service){ .conf = c, .state = SVC_STARTING, .watchdog_tfd = -1, .backoff_tfd = -1,
                                        .arena_fd = -1, .arena_file_fd = -1, .doorbell = -1, .held = HELD_NONE,
                                        .slab = { .fd = -1 } };
        TAILQ_INIT(&services[i].unsent);
        snprintf(services[i].last_exit, sizeof services[i].last_exit, "-");
        services[i].restart_ns = calloc(c->max_restarts ? c->max_restarts : 1, sizeof *services[i].restart_ns);
        /* untouched pages of a large max_sessions cost nothing (calloc maps them zeroed) */
        services[i].by_record = calloc(c->max_sessions, sizeof *services[i].by_record);
        if (!services[i].restart_ns || !services[i].by_record)
            return -1;
    }
    return 0;
}

void services_destroy(void)
{
    for (size_t i = 0; i < nservices; i++) {
        free(services[i].restart_ns);
        free(services[i].by_record);
        filter_cache_free(&services[i].filter);
    }
    free(services);
    services = NULL;
    nservices = 0;
}

size_t services_count(void) { return nservices; }
struct service *service_at(size_t i) { return &services[i]; }

struct service *service_find(const char *name)
{
    for (size_t i = 0; i < nservices; i++)
        if (strcmp(services[i].conf->name, name) == 0)
            return &services[i];
    return NULL;
}

size_t services_status(struct rv_wire_svc_status *out, size_t max)
{
    size_t n = nservices < max ? nservices : max;
    for (size_t i = 0; i < n; i++) {
        const struct service *svc = &services[i];
        struct rv_wire_svc_status *o = &out[i];
        memset(o, 0, sizeof *o);
        snprintf(o->name, sizeof o->name, "%s", svc->conf->name);
        snprintf(o->state, sizeof o->state, "%s", state_names[svc->state]);
        snprintf(o->last_exit, sizeof o->last_exit, "%s", svc->last_exit);
        if (svc->held.mounted)
            snprintf(o->mount, sizeof o->mount, "%s", svc->conf->mount);
        o->pid = svc->active ? svc->active->pid : 0;
        o->standby_pid = svc->standby ? svc->standby->pid : 0;
        /* and it has handled every session revived sent it since */
        o->standby_ready = svc->standby && svc->standby->settled &&
                           instance_ctl_done(svc->standby) >= svc->standby->ctl_sent;
        o->restarts = svc->restarts;
        o->sessions = svc->nsessions;
        o->recoveries = svc->recoveries;
        o->ssr_bytes = svc->ssr_bytes;
        o->last_recovery_us = svc->last_recovery_us;
        o->requests_failed = svc->requests_failed;
    }
    return n;
}

void service_note_exit(struct service *svc, const char *note)
{
    size_t l = strlen(svc->last_exit);
    snprintf(svc->last_exit + l, sizeof svc->last_exit - l, "%s", note);
}

size_t service_config(const struct service *svc, struct rv_wire_svc_config *cfg, int fds[SERVICE_CONFIG_FDS])
{
    const struct rv_service_conf *c = svc->conf;
    *cfg = (struct rv_wire_svc_config){ .ssr_size = c->ssr_size, .protect = c->ssr_protect, .arena_size = c->arena_size,
                                        .slab_records = svc->slab.geom.records,
                                        .max_request = svc->slab.geom.shape.max_request,
                                        .max_reply = svc->slab.geom.shape.max_reply };
    size_t n = 1;
    fds[n++] = svc->slab.fd;
    if (c->arena_size)
        fds[n++] = svc->arena_fd;
    if (svc->arena_file_fd >= 0) {
        cfg->flags |= RV_CONFIG_ARENA_FILE;
        fds[n++] = svc->arena_file_fd;
    }
    if (svc->held.image_fd >= 0) {
        cfg->flags |= RV_CONFIG_IMAGE;
        fds[n++] = svc->held.image_fd;
    }
    if (svc->held.fuse_fd >= 0) {
        cfg->flags |= RV_CONFIG_FUSE;
        cfg->mount_id = svc->held.mount_id;
        fds[n++] = svc->held.fuse_fd;
    }
    if (svc->doorbell >= 0) {
        cfg->flags |= RV_CONFIG_DOORBELL;
        fds[n++] = svc->doorbell;
    }
    return n;
}

/* ---- sessions ---- */

/* An id carries its session's slab record (session.c): one look-up, not a
 * walk of every session, so that opening and closing stay O(1) at 100,000
 * sessions. An id of the instance's making may name any record: checked. */
struct held_session *service_session(struct service *svc, uint64_t id)
{
    uint64_t record = id & (RV_SLAB_MAX_RECORDS - 1);
    struct held_session *s = record < svc->conf->max_sessions ? svc->by_record[record] : NULL;
    return s && s->id == id ? s : NULL;
}

void service_link(struct service *svc, struct held_session *s)
{
    svc->by_record[s->record] = s;
    RV_LIST_PUSH(svc->sessions, s);
    svc->nsessions++;
    svc->ssr_bytes += s->charged;
}

void service_unlink(struct held_session *s)
{
    struct service *svc = s->svc;
    service_dequeue_bind(s);
    svc->by_record[s->record] = NULL;
    RV_LIST_UNLINK(svc->sessions, s);
    svc->nsessions--;
    svc->ssr_bytes -= s->charged;
}

void service_queue_bind(struct held_session *s)
{
    if (!s->unsent)
        TAILQ_INSERT_TAIL(&s->svc->unsent, s, unsent_link);
    s->unsent = true;
}

void service_dequeue_bind(struct held_session *s)
{
    if (s->unsent)
        TAILQ_REMOVE(&s->svc->unsent, s, unsent_link);
    s->unsent = false;
}

/* ---- instances ---- */

void service_abort(struct instance *in, const char *why)
{
    struct service *svc = in->svc;
    if (in->killed_by_us)
        return;
    in->killed_by_us = true;
    rv_warn("%s: instance %d: %s; killing it", svc->conf->name, (int)in->pid, why);
    instance_signal(in, SIGKILL);
    if (in != svc->active)
        return;
    snprintf(svc->last_exit, sizeof svc->last_exit, "%s", why);
    for (struct held_session *s = svc->sessions; s; s = s->next)
        s->culprit = false;
}

void service_refuse(struct instance *in, const char *why)
{
    struct service *svc = in->svc;
    bool active = in == svc->active;
    service_abort(in, why);
    if (active)
        svc->refused = true;
}
