/* manifest.h — the manifest: which services revived runs, and how.
 *
 * An INI file (parsed with inih). Sections:
 *   [revived]          nucleus-wide settings: per-user limits, the socket's
 *                      mode and group, max_arena_bytes (all arenas together)
 *   [service NAME]     one service; see docs/manifest.md for every key.
 *   [task NAME]        one client program revived starts and supervises
 *                      (it is their loader), with its own name space.
 * Loading validates everything: an unknown key, a bad value, a missing
 * binary is reported as one line "FILE:LINE: key 'KEY': what is wrong".
 */
#ifndef RV_MANIFEST_H
#define RV_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "wire.h"

/* ssr: sessions and their SSRs survive restarts; stateless: a restart
 * revokes every bound session (the clients reanimate them); arena: as ssr,
 * plus one service-global persistent heap (include/revive/arena.h). */
enum rv_state_mode { RV_STATE_SSR = 0, RV_STATE_STATELESS, RV_STATE_ARENA };
enum rv_restart { RV_RESTART_ALWAYS = 0, RV_RESTART_ON_FAILURE, RV_RESTART_NEVER };

/* Who may open sessions with a service (`users`). Not given: revived's own
 * user and root. */
struct rv_users {
    bool given;
    bool anyone;              /* users = * */
    uid_t *uids;
    size_t nuids;
    gid_t *gids;              /* @group: members, by primary or supplementary group */
    size_t ngids;
};

struct rv_service_conf {
    char name[RV_NAME_MAX];
    char *exec;               /* resolved absolute path */
    char **argv;              /* argv[0] = exec, then `args` split on blanks, NULL-terminated */
    enum rv_state_mode state;
    uint64_t ssr_size;        /* bytes of service-visible SSR per session */
    uint64_t max_sessions;    /* sessions it may hold at once: its slab's records (after loading: set) */
    uint64_t max_request;     /* the largest request and reply its journals hold */
    uint64_t max_reply;
    uint64_t arena_size;      /* state = arena: bytes of its arena; else 0 */
    char *arena_file;         /* state = arena: where the arena is kept durable (absolute); NULL: memory only */
    char *image;              /* a file revived opens read-write for the service (absolute); NULL: none */
    char *mount;              /* where revived mounts the service's FUSE file system (absolute); NULL: none */
    enum rv_restart restart;
    unsigned max_restarts;    /* at most this many restarts ... */
    uint64_t restart_window_ms; /* ... within this window, else the service is failed */
    uint64_t backoff_min_ms, backoff_max_ms;
    uint64_t request_timeout_ms; /* 0 = no deadline */
    uint64_t start_timeout_ms;   /* from start (or a standby's promotion) to READY */
    uint64_t heartbeat_ms;       /* 0 = no heartbeat */
    enum rv_ssr_protect ssr_protect;
    bool standby;             /* keep a started instance waiting to take over */
    bool fast_path;           /* sessions of their own get a ring and the doorbell (ring.h) */
    struct rv_users users;
    /* The sandbox (docs/sandbox.md). */
    bool sandbox;             /* no_new_privs, the seccomp filter and Landlock; `sandbox = no` turns them off */
    bool set_ids;             /* revived, as root, changes to uid and gid (and no other group) before exec */
    uint32_t uid, gid;        /* who the service runs as (after loading: always resolved) */
    char *syscalls;           /* system calls it may make beyond the runtime's, blank-separated; NULL: none */
    char **read_paths;        /* Landlock: beneath these it may read (absolute, NULL-terminated); NULL: none */
    char **write_paths;       /* ... and beneath these read and write */
};

/* The uids and gids revived gives a service that names no `user` when it
 * runs as root: systemd's range for DynamicUser=, which no package and no
 * account takes, one id per service, derived from its name. */
#define RV_DYNAMIC_ID_MIN 61184u
#define RV_DYNAMIC_ID_MAX 65519u
/* At most this many paths in each of read_paths and write_paths. */
#define RV_PATHS_MAX 16

/* One entry of a task's name space: `name` (what the task asks for)
 * stands for the service or the dataspace `target`. */
struct rv_name {
    char name[RV_NAME_MAX];
    char target[RV_NAME_MAX];
    bool dataspace;           /* written NAME:ds/TARGET */
    int line;                 /* where it was given, for errors found later */
};

struct rv_task_conf {
    char name[RV_NAME_MAX];
    char *exec;               /* resolved like a service's */
    char **argv;              /* argv[0] = exec, then `args` */
    struct rv_name *names;    /* its name space: nothing else resolves for it */
    size_t nnames;
    enum rv_restart restart;  /* default on-failure; restarts after a fixed backoff */
};

struct rv_manifest {
    struct rv_service_conf *services;
    size_t nservices;
    struct rv_task_conf *tasks;
    size_t ntasks;
    uint64_t max_ssr_bytes;   /* per user: SSR + journal bytes of all its sessions */
    unsigned max_sessions_per_user;     /* sessions, dataspaces and attachments */
    unsigned max_connections_per_user;
    unsigned reserved_descriptors;      /* kept for root and revived's own user */
    uint64_t idle_timeout_ms;           /* a connection that sends nothing is closed */
    unsigned socket_mode;
    gid_t socket_group;       /* (gid_t)-1: revived's own group */
    uint64_t max_arena_bytes; /* all services' arenas together */
};

/* The manifest revived runs when none is given. */
extern const char rv_default_manifest[];

/* Loads from a file or from text (`origin` names it in errors). On error
 * returns -1 and writes one line to err; *m is left empty. Bare exec names
 * are looked up in service_path (colon-separated directories). */
int rv_manifest_load_file(const char *path, const char *service_path,
                          struct rv_manifest *m, char *err, size_t errlen);
int rv_manifest_load_text(const char *text, const char *origin, const char *service_path,
                          struct rv_manifest *m, char *err, size_t errlen);
void rv_manifest_free(struct rv_manifest *m);

#endif
