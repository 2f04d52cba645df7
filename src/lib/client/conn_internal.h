/* conn_internal.h — what the parts of librevive that talk to revived
 * (sessions, dataspaces) need of a connection. */
#ifndef RV_CONN_INTERNAL_H
#define RV_CONN_INTERNAL_H

#include <stddef.h>
#include "revive/client.h"
#include "wire.h"

rv_conn *rv__conn_get(rv_conn *c);
void rv__conn_put(rv_conn *c);
int rv__conn_fd(const rv_conn *c);
/* Its shared channels (mux.c keeps them), and what frees them with it. */
struct rv__chan;
struct rv__chan **rv__conn_chans(rv_conn *c, void (*free_all)(struct rv__chan *list));
/* Records the sentence rv_conn_error() returns; returns status. */
int rv__conn_fail(rv_conn *c, int status, const char *text);
/* As rv__conn_fail, with a sentence of len bytes, not NUL-terminated. */
int rv__conn_fail_text(rv_conn *c, int status, const char *text, size_t len);
/* Sends h (+ body, fds) and receives the answer into m. 0 for an answer
 * other than RV_T_ERROR; else the error, its sentence recorded. */
int rv__conn_request(rv_conn *c, const struct rv_hdr *h, const void *body, const int *fds, size_t nfds,
                    struct rv_msg *m);

#endif
