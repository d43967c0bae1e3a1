import { runTool } from '@scope/core';
import { diffTool } from './diff-command.js';
await runTool(diffTool);
