/*
 * What the applets share: the prototype of each applet's main (from
 * applets.def) and the answer of a command not written yet.
 */
#ifndef HA_APPLETS_H
#define HA_APPLETS_H

#include "core/cli.h"

#define APPLET(name, cfg, help) int name##_main(int argc, char **argv);
#include "applets/applets.def"
#undef APPLET

#endif
