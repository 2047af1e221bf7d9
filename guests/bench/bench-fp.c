/* bench-fp: double-precision work: an n-body simulation (add, mul, div, sqrt)
 * and a dense matrix product. Built with -ffp-contract=off so no fused
 * multiply-add changes rounding: the result bits are the same on any IEEE-754
 * machine, and the checksum printed is the raw bits of the final values.
 * Usage: bench-fp [steps]. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB 5
#define MN 48

struct body { double x, y, z, vx, vy, vz, m; };

static struct body bodies[NB] = {
    {0, 0, 0, 0, 0, 0, 39.47841760435743},
    {4.84143144246472090, -1.16032004402742839, -0.103622044471123109,
     0.606326392995832, 2.81198684491626, -0.02521836165988763, 0.03769367487038949},
    {8.34336671824457987, 4.12479856412430479, -0.403523417114321381,
     -1.01077434617730, 1.82566237123041, 0.008415761376584154, 0.011286326131968767},
    {12.8943695621391310, -15.1111514016986312, -0.223307578892655734,
     1.08279100644154, 0.868713018169608, -0.01010827097812, 0.0017237240570597112},
    {15.3796971148509165, -25.9193146099879641, 0.179258772950371181,
     0.979090732243898, 0.594698998647676, -0.034763154588, 0.0020336868699246304},
};

static void advance(double dt) {
    for (int i = 0; i < NB; i++) {
        for (int j = i + 1; j < NB; j++) {
            double dx = bodies[i].x - bodies[j].x;
            double dy = bodies[i].y - bodies[j].y;
            double dz = bodies[i].z - bodies[j].z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            bodies[i].vx -= dx * bodies[j].m * mag;
            bodies[i].vy -= dy * bodies[j].m * mag;
            bodies[i].vz -= dz * bodies[j].m * mag;
            bodies[j].vx += dx * bodies[i].m * mag;
            bodies[j].vy += dy * bodies[i].m * mag;
            bodies[j].vz += dz * bodies[i].m * mag;
        }
    }
    for (int i = 0; i < NB; i++) {
        bodies[i].x += dt * bodies[i].vx;
        bodies[i].y += dt * bodies[i].vy;
        bodies[i].z += dt * bodies[i].vz;
    }
}

static double energy(void) {
    double e = 0;
    for (int i = 0; i < NB; i++) {
        struct body *b = &bodies[i];
        e += 0.5 * b->m * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
        for (int j = i + 1; j < NB; j++) {
            double dx = b->x - bodies[j].x, dy = b->y - bodies[j].y, dz = b->z - bodies[j].z;
            e -= b->m * bodies[j].m / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static double a[MN][MN], b[MN][MN], c[MN][MN];

static double matmul_trace(int reps) {
    for (int i = 0; i < MN; i++)
        for (int j = 0; j < MN; j++) {
            a[i][j] = (double)(i * MN + j) / 1000.0;
            b[i][j] = 1.0 / (double)(i + j + 1);
        }
    for (int r = 0; r < reps; r++) {
        memset(c, 0, sizeof c);
        for (int i = 0; i < MN; i++)
            for (int k = 0; k < MN; k++) {
                double aik = a[i][k];
                for (int j = 0; j < MN; j++) c[i][j] += aik * b[k][j];
            }
        /* Feed back, scaled so values stay bounded. */
        for (int i = 0; i < MN; i++)
            for (int j = 0; j < MN; j++) a[i][j] = c[i][j] / (double)MN;
    }
    double t = 0;
    for (int i = 0; i < MN; i++) t += c[i][i];
    return t;
}

static uint64_t bits(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 100000;
    /* Velocities above are already in AU/year; zero the total momentum. */
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < NB; i++) {
        px += bodies[i].vx * bodies[i].m;
        py += bodies[i].vy * bodies[i].m;
        pz += bodies[i].vz * bodies[i].m;
    }
    bodies[0].vx = -px / bodies[0].m;
    bodies[0].vy = -py / bodies[0].m;
    bodies[0].vz = -pz / bodies[0].m;

    double e0 = energy();
    for (int s = 0; s < steps; s++) advance(0.01);
    double e1 = energy();
    double tr = matmul_trace(steps / 2000 + 1);
    uint64_t check = bits(e0) ^ (bits(e1) * 31) ^ (bits(tr) * 961);
    printf("bench-fp: steps=%d energy=%.9f e0=%.9f checksum=%016" PRIx64 "\n", steps, e1, e0, check);
    return 0;
}
