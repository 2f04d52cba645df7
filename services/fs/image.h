/* image.h — where the fs service's image lives, behind struct txnio_image:
 *
 *   - image_file: the file or block device revived holds for the service
 *     (`image = PATH`), mapped for reads and written with pwritev: a page
 *     written whole through a mapping would first be faulted in (and, in a
 *     hole, zeroed) only to be overwritten;
 *   - image_blk: the `blk` service, over a revive session (`args = --blk
 *     NAME`): fs then is blk's client, and three services stack (the
 *     kernel's FUSE requests -> fs -> blk). Pages are cached in this
 *     process; a blk that dies under a request is invisible here, as to
 *     any revive client.
 *
 * Both fill *img, or return -1 with a sentence in why. */
#ifndef RV_FS_IMAGE_H
#define RV_FS_IMAGE_H

#include <stddef.h>
#include "txnio.h"

int image_file_open(int fd, struct txnio_image *img, char *why, size_t whylen);
int image_blk_open(const char *service, struct txnio_image *img, char *why, size_t whylen);

#endif
