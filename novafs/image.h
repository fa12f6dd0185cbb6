/*
 * image.h - images/: disk images, as Glance keeps them.  `mkdir
 * images/NAME`, then `cp disk.qcow2 images/NAME/data` (or a path written
 * to `source`, imported in the background): on the last close the image
 * is `active`, with its size, checksums and disk_format, and immutable.
 * Its bytes are a file in the image store (--image-dir), which compute
 * hosts read directly: an instance's disk is a copy-on-write overlay on
 * it, and `kernel`/`ramdisk` name the images a direct kernel boot uses.
 */
#ifndef NOVAFS_IMAGE_H
#define NOVAFS_IMAGE_H

#include <jansson.h>

struct obj;
struct rpc_error;

extern const struct kind image_kind;

/* The image store's directory: set once, before the store is loaded. */
void image_set_dir(const char *dir);

/* At start, once the committer runs and before the mount serves: kills
 * the images whose upload a stop interrupted (fault says so) and removes
 * from the store every file that is no active image's.  Returns how many
 * images it killed, or -errno. */
int image_recover(void);

/* The image called name, or NULL.  Under a lock, or on the committer. */
struct obj *image_find(const char *name);

/*
 * For a start of an instance of flavor fl from img, on the committer:
 * 0 when img is active, its kernel and ramdisk too, and fl has room for
 * it (min_ram, min_disk, its virtual size); else -EINVAL with e
 * (ImageNotActive, FlavorMemoryTooSmall, FlavorDiskSmallerThanMinDisk,
 * FlavorDiskSmallerThanImage), saying which and why.
 */
int image_check(const struct obj *img, const struct obj *fl,
		struct rpc_error *e);

/* The instance object's "image" member (rpc/methods_compute.c) for img,
 * or NULL when out of memory. */
json_t *image_wire(const struct obj *img);

#endif
