/* target_asm.S — the target functions of the injector tests, in assembly so
 * the tests know every instruction an experiment may pick.
 * rv_reg_block is a function symbol covering only the four register
 * instructions inside reg_block_run: an R experiment aimed at it flips a
 * register whose effect on out[] the test can compute exactly. */
        .text
        .globl  reg_block_run
        .type   reg_block_run, @function
reg_block_run:                  /* rdi = a, rsi = b, rdx = c, rcx = out */
        movq    %rdx, %xmm1
        .globl  rv_reg_block
        .type   rv_reg_block, @function
rv_reg_block:
        movl    %edi, %eax
        addq    %rsi, %rax
        movq    %rax, %xmm0
        paddq   %xmm1, %xmm0
        .size   rv_reg_block, . - rv_reg_block
        movdqu  %xmm0, (%rcx)
        ret
        .size   reg_block_run, . - reg_block_run

        .globl  mem_block
        .type   mem_block, @function
mem_block:                      /* rdi = buf, rsi = idx */
        movq    (%rdi), %rax
        movq    8(%rdi,%rsi,4), %rdx
        addq    mem_global(%rip), %rax
        movq    %rax, (%rdi)
        ret
        .size   mem_block, . - mem_block

        .data
        .globl  mem_global
        .type   mem_global, @object
mem_global:
        .quad   7
        .size   mem_global, 8

        .section .note.GNU-stack,"",@progbits
