/* phold.h - the PHOLD benchmark model. */
#ifndef DSIM_PHOLD_H
#define DSIM_PHOLD_H

#include "sim.h"

extern const sim_model phold_model;

#endif
