/* access.c — see access.h. */
#include "access.h"

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>
#include "conn.h"

static const struct rv_manifest *manifest;

void access_init(const struct rv_manifest *m) { manifest = m; }

static bool is_service(uid_t uid)
{
    for (size_t i = 0; manifest && i < manifest->nservices; i++)
        if (manifest->services[i].uid == uid)
            return true;
    return false;
}

static bool admitted(const struct rv_users *u, const struct conn *c)
{
    uid_t uid;
    gid_t gid;
    conn_cred(c, &uid, &gid);
    if (is_service(uid))
        return true;
    if (!u->given)
        return uid == 0 || uid == getuid();
    if (u->anyone)
        return true;
    for (size_t i = 0; i < u->nuids; i++)
        if (u->uids[i] == uid)
            return true;
    for (size_t i = 0; i < u->ngids; i++)
        if (conn_in_group(c, u->gids[i]))
            return true;
    return false;
}

int access_check_open(const struct rv_service_conf *conf, const struct conn *c, char *why, size_t len)
{
    if (admitted(&conf->users, c))
        return 0;
    uid_t uid;
    gid_t gid;
    conn_cred(c, &uid, &gid);
    snprintf(why, len, "permission denied: user %u may not open sessions with '%s' (%s; the service's "
             "`users` key in the manifest lets users and @groups in)", (unsigned)uid, conf->name,
             conf->users.given ? "its `users` does not name it or its groups" : "it admits root and revived's "
             "own user only");
    return -1;
}
