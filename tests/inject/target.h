/* target.h — what the injector tests and their target program agree on: the
 * inputs of the register block, and the functions written in assembly
 * (target_asm.S) so their instructions, and so each fault's effect, are
 * known exactly. */
#ifndef RV_INJECT_TARGET_H
#define RV_INJECT_TARGET_H

#include <stdint.h>

#define REG_A 0x1111222233334444ull   /* rdi: only its low half (edi) is read */
#define REG_B 0x0101010101010101ull   /* rsi */
#define REG_C 0x1000ull               /* xmm1, low lane */
#define MEM_INDEX 2                   /* mem_block reads buf[2] via 8(buf,index,4) */

/* out[0..1] = the two lanes of (uint32)a + b + c computed as:
 *   mov eax, edi; add rax, rsi; movq xmm0, rax; paddq xmm0, xmm1   (rv_reg_block) */
void reg_block_run(uint64_t a, uint64_t b, uint64_t c, uint64_t out[2]);
/* Reads buf[0], the word at buf+8+idx*4, mem_global, then writes buf[0]. */
void mem_block(uint64_t *buf, uint64_t idx);
void rv_reg_block(void);
extern uint64_t mem_global;

#endif
