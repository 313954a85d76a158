using Incubator.Domain.Generation;

namespace Incubator.Tests.Generation;

public sealed class TextNormalizerTests
{
    [Theory]
    [InlineData("\"Great product!\"", "great product")]
    [InlineData("  Great\n\tproduct  ", "great product")]
    [InlineData("ＧＲＥＡＴ　ｐｒｏｄｕｃｔ", "great product")]
    [InlineData("「返金してください。」", "返金してください")]
    [InlineData("ｶｰﾄﾞ決済", "カード決済")]
    [InlineData("(It's fine, really.)", "it's fine, really")]
    [InlineData("...", "")]
    [InlineData("", "")]
    public void Normalizes(string input, string expected) => Assert.Equal(expected, TextNormalizer.Normalize(input));
}
