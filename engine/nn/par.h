/* Kernels with fewer elements than this run on one thread. A parallel region
 * costs microseconds, and while another process holds the second core its
 * barrier waits for a scheduler slice: the finite-difference test of tiny
 * layers took 14 s with two threads and 0.04 s with one on a shared machine. */
#ifndef UF_NN_PAR_H
#define UF_NN_PAR_H

#define UF_PAR_MIN 32768

#endif
