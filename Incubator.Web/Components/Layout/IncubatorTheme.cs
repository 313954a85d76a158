using MudBlazor;

namespace Incubator.Web.Components.Layout;

public static class IncubatorTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#2E7D5B",
            Secondary = "#C77D2E",
            AppbarBackground = "#1F5C43",
            Background = "#F7F8F6",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography
            {
                FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Hiragino Sans", "Noto Sans JP", "Roboto", "sans-serif"],
            },
        },
    };
}
