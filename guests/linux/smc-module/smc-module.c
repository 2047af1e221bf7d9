// SPDX-License-Identifier: GPL-2.0
/* A kernel module whose code computes a value it prints when loaded: two builds of it
 * (smc_a: 11, smc_b: 22) loaded and unloaded in turn make the kernel write new module code
 * where old module code ran, as module loading does. The emulator must run the new code
 * (Tests/EndToEndTests/SelfModifyingCodeTests.swift checks the printed values). */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

static noinline int trapeze_smc_compute(int x)
{
	return x * SMC_VALUE + SMC_VALUE;
}

static int __init trapeze_smc_init(void)
{
	pr_info("trapeze-smc: %s computes %d\n", KBUILD_MODNAME, trapeze_smc_compute(3));
	return 0;
}

static void __exit trapeze_smc_exit(void)
{
}

module_init(trapeze_smc_init);
module_exit(trapeze_smc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Trapeze self-modifying-code test: module code loaded where other module code ran");
