/* list.h — container_of, and the doubly linked lists revived keeps its
 * objects in (a head pointer, NULL-terminated, each element with `next`
 * and `prev`): pushing at the head and unlinking anywhere, in O(1). */
#ifndef RV_LIST_H
#define RV_LIST_H

#include <stddef.h>

#define rv__container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

#define RV_LIST_PUSH(head, e)                \
    do {                                     \
        (e)->prev = NULL;                    \
        (e)->next = (head);                  \
        if (head)                            \
            (head)->prev = (e);              \
        (head) = (e);                        \
    } while (0)

#define RV_LIST_UNLINK(head, e)              \
    do {                                     \
        if ((e)->prev)                       \
            (e)->prev->next = (e)->next;     \
        else                                 \
            (head) = (e)->next;              \
        if ((e)->next)                       \
            (e)->next->prev = (e)->prev;     \
        (e)->next = (e)->prev = NULL;        \
    } while (0)

#endif
