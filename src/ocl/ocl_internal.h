/* Shared between the files of the OpenCL layer only (not part of its interface, ocl.h). */
#ifndef ISB_OCL_OCL_INTERNAL_H
#define ISB_OCL_OCL_INTERNAL_H

#include "ocl/ocl.h"

/* Releases every cached program and kernel of the context (ocl_program.c; isb_ocl_close calls it). */
void isb_ocl_release_programs(isb_ocl *ocl);

#endif
