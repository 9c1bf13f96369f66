// The parts of ECharts the dashboard uses, exposed as the global `echarts` that
// charming's WasmRenderer calls. Built by scripts/build-echarts with esbuild from
// the npm packages in package-lock.json (the full bundle is 368 KB gzipped, this
// one about 189 KB). The scroll legend serves both charts.
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendScrollComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, GridComponent, LegendScrollComponent, TooltipComponent, CanvasRenderer]);
window.echarts = echarts;
